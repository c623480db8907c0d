import { PersonalAccessTokenEntity } from '@accel/db';
import { modelView } from '@accel/common';

/** A token as listed: never the token or its hash. */
export const tokenView = (t: PersonalAccessTokenEntity) => ({
  ...modelView(t),
  name: t.name,
  bio: t.bio,
  scopes: t.scopes,
  state: t.state,
  expired_at: t.expiredAt.toISOString(),
  user_id: t.userId,
});
