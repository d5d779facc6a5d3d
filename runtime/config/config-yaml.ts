import { parseDocument, stringify } from 'yaml';
import { InvalidArgumentError } from '../errors.js';

// YAML 1.1, as Argo's Go parser reads its ConfigMap: `archive: yes` is true there and must be here too.
const YAML_VERSION = '1.1';

/**
 * Parses the YAML text of a configuration (a file, a ConfigMap's `config` key). Only the first line
 * of each parser message is kept: the rest quotes the source line, which may hold a password.
 */
export function parseConfigYaml(text: string, source: string): unknown {
  const document = parseDocument(text, { version: YAML_VERSION, prettyErrors: true });
  if (document.errors.length > 0) {
    const details = document.errors.map((error) => (error.message.split('\n')[0] ?? error.code).replace(/:$/, ''));
    throw new InvalidArgumentError(`invalid configuration in ${source}: YAML: ${details.join('; ')}`);
  }
  return document.toJS({ maxAliasCount: 100 });
}

export function stringifyConfigYaml(document: unknown): string {
  return stringify(document, { version: YAML_VERSION });
}
