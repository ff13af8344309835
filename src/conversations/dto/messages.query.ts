import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { IsOmittable } from '../../platform/http/decorators';
import { IsPageLimit } from '../../platform/http/pagination';

export const DEFAULT_MESSAGE_PAGE = 50;

/** The page size of a message page (also taken by the thread view). */
export class MessageLimitQuery {
  @IsPageLimit('Messages', DEFAULT_MESSAGE_PAGE)
  limit?: number;
}

export class MessagesQuery extends MessageLimitQuery {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'The newest `limit` messages before this message id. Not with `after`. Example: `01a2182a-9b10-7f2d-9e84-3c6a1b5d7e02`.',
  })
  @IsOmittable()
  @IsUUID('all', { message: 'before must be a message id (UUID)' })
  before?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'The oldest `limit` messages after this message id (what polling clients call). Not with `before`. Example: `01a21828-6e3a-7d41-8b27-9f1c3a5e7d60`.',
  })
  @IsOmittable()
  @IsUUID('all', { message: 'after must be a message id (UUID)' })
  after?: string;
}
