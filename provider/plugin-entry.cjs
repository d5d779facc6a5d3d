// The package's `main`, which the Pulumi language host loads (with require) when it starts the provider
// through PulumiPlugin.yaml: the provider itself is an ES module, so it is imported from here.
import('../dist/provider/main.js').catch((error) => {
  console.error(`pulumi-resource-argosync: ${error.message}; run npm run build first`);
  process.exit(1);
});
