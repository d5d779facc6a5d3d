import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRuntimeConfig } from '../../runtime/config/runtime-config.js';
import { secret } from '../support/engine-harness.js';
import { recordResources, type RegisteredResource } from '../support/pulumi-mock-resources.js';

/** The component, the eleven resources of any Runtime, and the Secret with the OAuth client. */
const EXPECTED = 12;
let registered: RegisteredResource[] = [];

describe('the Runtime component with an sso input (pulumi.runtime.setMocks)', () => {
  beforeAll(async () => {
    const recording = await recordResources(EXPECTED);
    registered = recording.registered;
    const { RuntimeComponent } = await import('../../provider/resources/runtime.js');
    new RuntimeComponent('team', {
      namespace: 'platform',
      image: 'registry.example/argosync:0.1.0',
      sso: pulumi.secret({ issuer: 'https://dex.example/dex', clientId: 'argosync', clientSecret: 'oauth-s3cret', redirectUrl: 'https://argo.example/oauth2/callback', scopes: ['groups'], rbacEnabled: true, filterGroupsRegex: ['^team-'] }),
    });
    await recording.all;
  });

  const find = (type: string, name: string) => registered.find((resource) => resource.type === type && resource.name === name)?.inputs;

  it('keeps the client in its own Secret and writes a valid sso section that refers to it', () => {
    const client = find('kubernetes:core/v1:Secret', 'team-sso-client')!;
    expect(client.metadata).toMatchObject({ name: 'team-sso-client', namespace: 'platform' });
    // The mocks see a secret as Pulumi's wire form: the secret signature beside the value.
    expect(client.stringData).toEqual(secret({ clientID: 'argosync', clientSecret: 'oauth-s3cret' }));
    const text = find('kubernetes:core/v1:ConfigMap', 'team-config')!.data.config as string;
    expect(text).not.toContain('oauth-s3cret');
    const sso = parseRuntimeConfig(parse(text)).sso!;
    expect(sso).toMatchObject({
      issuer: 'https://dex.example/dex',
      clientId: { secretKeyRef: { name: 'team-sso-client', key: 'clientID' } },
      clientSecret: { secretKeyRef: { name: 'team-sso-client', key: 'clientSecret' } },
      scopes: ['groups', 'openid'],
      rbacEnabled: true,
      filterGroupsRegex: ['^team-'],
    });
  });

  it('runs the server with --auth-mode sso and lets it read Secrets and ServiceAccounts', () => {
    expect(find('kubernetes:apps/v1:Deployment', 'team-server')!.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['--auth-mode', 'sso']));
    const rules = find('kubernetes:rbac.authorization.k8s.io/v1:Role', 'team-runtime')!.rules;
    expect(rules).toContainEqual({ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create'] });
    expect(rules).toContainEqual({ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list'] });
  });
});
