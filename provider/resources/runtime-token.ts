/** The `Runtime` component's token, apart from its module so that naming it does not load @pulumi/kubernetes. */
export const RUNTIME_TOKEN = 'argosync:index:Runtime';
