import { UserEntity } from '@accel/db';
import { modelView } from '@accel/common';

export const userView = (u: UserEntity) => ({
  ...modelView(u),
  name: u.name,
  email: u.email,
  role: u.role,
  state: u.state,
});
