import { RegistryEntity } from '@accel/db';
import { modelView } from '@accel/common';

/** Secrets are sealed at rest and never echoed: a response says only whether one is set. */
export const registryView = (r: RegistryEntity) => ({
  ...modelView(r),
  host: r.host,
  username: r.username,
  password_set: r.sealedPassword !== null,
  insecure: r.insecure,
  plain_http: r.plainHttp,
  token_realm: r.tokenRealm,
});
