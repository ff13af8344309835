import { Membership, Org, User } from '../../members/membership.entity';

/** Every entity the ORM knows; the schema itself is owned by the migrations. */
export const entities = [Org, User, Membership];
