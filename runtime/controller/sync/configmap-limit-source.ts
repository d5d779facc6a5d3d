import { configMapValue } from '../../store/configmap-store.js';
import type { LimitReading, LimitSource } from './limit-source.js';
import type { WatchedConfigMaps } from './watched-configmaps.js';

/** The limit of a ConfigMap semaphore: the integer string under `data[key]` (SPEC §2). */
export class ConfigMapLimitSource implements LimitSource {
  constructor(
    private readonly configMaps: WatchedConfigMaps,
    private readonly namespace: string,
    private readonly configMapName: string,
    private readonly key: string,
  ) {}

  async read(): Promise<LimitReading> {
    const { namespace, configMapName, key } = this;
    const howToCreate = `create it with: argosync sync create ${key} --type configmap --cm-name ${configMapName} --limit <N> -n ${namespace}`;
    const configMap = this.configMaps.get(namespace, configMapName);
    if (!configMap) return { problem: `ConfigMap ${namespace}/${configMapName} does not exist (${howToCreate})` };
    const value = configMapValue(configMap, key);
    if (value === undefined) return { problem: `key ${key} not found in configmap ${namespace}/${configMapName} (${howToCreate})` };
    if (!/^[+-]?\d+$/.test(value.trim())) {
      return { problem: `invalid limit format for key ${key} in configmap ${namespace}/${configMapName}: "${value}" is not an integer` };
    }
    return { limit: Number.parseInt(value, 10) };
  }
}
