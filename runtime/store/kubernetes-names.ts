import { InvalidArgumentError } from '../errors.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** Kubernetes's own explanation of a bad name, or undefined when `name` is a valid DNS-1123 subdomain. */
export function subdomainProblem(name: string): string | undefined {
  if (name.length > 253) return 'must be no more than 253 characters';
  if (SUBDOMAIN.test(name)) return undefined;
  return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
}

/** The same for namespaces, which are DNS-1123 labels. */
export function labelProblem(name: string): string | undefined {
  if (name.length > 63) return 'must be no more than 63 characters';
  if (LABEL.test(name)) return undefined;
  return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
}

/** The same for ConfigMap data keys. */
export function configMapKeyProblem(key: string): string | undefined {
  if (key.length > 253) return 'must be no more than 253 characters';
  if (CONFIG_KEY.test(key)) return undefined;
  return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
}

/** Throws Kubernetes's 422 text for a ConfigMap with a bad name or data key, e.g. `ConfigMap "A" is invalid: metadata.name: Invalid value: "A": ...`. */
export function assertValidConfigMap(configMap: { namespace: string; name: string; data: Readonly<Record<string, string>> }): void {
  const problems: string[] = [];
  const nameProblem = subdomainProblem(configMap.name);
  if (nameProblem) problems.push(`metadata.name: Invalid value: ${JSON.stringify(configMap.name)}: ${nameProblem}`);
  const namespaceProblem = labelProblem(configMap.namespace);
  if (namespaceProblem) problems.push(`metadata.namespace: Invalid value: ${JSON.stringify(configMap.namespace)}: ${namespaceProblem}`);
  for (const key of Object.keys(configMap.data)) {
    const keyProblem = configMapKeyProblem(key);
    if (keyProblem) problems.push(`data[${key}]: Invalid value: ${JSON.stringify(key)}: ${keyProblem}`);
  }
  if (problems.length > 0) {
    throw new InvalidArgumentError(`ConfigMap ${JSON.stringify(configMap.name)} is invalid: ${problems.join(', ')}`);
  }
}
