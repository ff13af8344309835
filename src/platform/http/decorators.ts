import { applyDecorators, Header, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiParam, ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
  buildMessage,
  type ValidationOptions,
} from 'class-validator';
import { Problems } from './problem';

/**
 * An optional field: it may be left out, but not sent as null (class-validator's IsOptional lets
 * null through to code that does not expect it). A null is validated, and refused, like any value.
 */
export function IsOmittable() {
  return ValidateIf((_object: unknown, value: unknown) => value !== undefined);
}

/** Limits that come from configuration, read at validation time. */
export const textLimits = { messageMaxLength: 4000 };

// Control characters (Unicode Cc) other than tab, newline and carriage return.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

export function checkText(value: unknown, max: number, singleLine = false): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed())
    return 'must be well-formed Unicode';
  if (singleLine && /[\t\n\r]/.test(value)) return 'must be one line, without tabs or line breaks';
  if (FORBIDDEN_CONTROL.test(value))
    return 'must not contain control characters other than newline, carriage return and tab';
  const length = codePoints(value);
  if (length < 1) return 'must not be empty';
  if (length > max) return `must be at most ${max} characters`;
  return null;
}

export function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * A user-written text: trimmed, then 1..max Unicode code points, no control characters other
 * than \n, \r and \t. `max: 'message'` follows MESSAGE_MAX_LENGTH.
 */
export function IsText(options: {
  max: number | 'message';
  description: string;
  example: string;
  optional?: boolean;
  /** Names and titles: no tab or line break either. */
  singleLine?: boolean;
  /** With optional: null is accepted too (it clears the value). */
  nullable?: boolean;
  /** Applied before trimming and validation (e.g. a display name's normalisation). */
  clean?: (value: string) => string;
}) {
  const singleLine = options.singleLine ?? false;
  const max = () => (options.max === 'message' ? textLimits.messageMaxLength : options.max);
  const doc = {
    description: `${options.description} Trimmed; 1–${options.max === 'message' ? '4000 (MESSAGE_MAX_LENGTH)' : options.max} Unicode code points; ${singleLine ? 'one line, no control characters' : 'no control characters other than newline, carriage return and tab'}.`,
    example: options.example,
    minLength: 1,
    maxLength: options.max === 'message' ? 4000 : options.max,
    type: String,
    ...(options.nullable ? { nullable: true } : {}),
  };
  const validationOptions: ValidationOptions = {};
  return applyDecorators(
    options.optional ? ApiPropertyOptional(doc) : ApiProperty(doc),
    ...(options.optional
      ? [
          options.nullable
            ? ValidateIf(
                (_object: unknown, value: unknown) => value !== undefined && value !== null,
              )
            : IsOmittable(),
        ]
      : []),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? (options.clean ? options.clean(value) : value).trim() : value,
    ),
    ValidateBy(
      {
        name: 'isText',
        validator: {
          validate: (value: unknown) => checkText(value, max(), singleLine) === null,
          defaultMessage: buildMessage(
            (prefix, args) =>
              `${prefix}$property ${checkText(args?.value, max(), singleLine) ?? 'is invalid'}`,
            validationOptions,
          ),
        },
      },
      validationOptions,
    ),
  );
}

export const CURSOR_DESCRIPTION = 'Opaque cursor from a previous page’s `nextCursor`.';

/** An opaque pagination cursor (query parameter). */
export function IsCursor() {
  return applyDecorators(
    ApiPropertyOptional({
      description: CURSOR_DESCRIPTION,
      type: String,
      maxLength: 512,
    }),
    IsOmittable(),
    IsString(),
    MaxLength(512, { message: 'cursor is malformed; pass back the nextCursor of a previous page' }),
    Matches(/^[A-Za-z0-9_-]+$/, {
      message: 'cursor is malformed; pass back the nextCursor of a previous page',
    }),
  );
}

/** A client-chosen idempotency key. */
export function IsClientMessageId() {
  return applyDecorators(
    ApiPropertyOptional({
      description:
        'Client-chosen idempotency key (1–64 characters), scoped to you in this org. The same key with the same thread and body returns the original message (200); with another body or thread, 422. Same key space as the Idempotency-Key header. Example: `a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d` (a fresh one per new message, e.g. a UUID).',
      maxLength: 64,
      minLength: 1,
    }),
    IsOmittable(),
    IsString(),
    Matches(/^[\x21-\x7E]{1,64}$/, {
      message: 'clientMessageId must be 1–64 printable ASCII characters without spaces',
    }),
  );
}

/** A UUID path parameter; anything else is a 400 naming the parameter. */
export function UuidParam(name: string) {
  return Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () =>
        Problems.validation([{ field: name, message: `${name} must be a UUID` }]),
    }),
  );
}

export function ApiUuidParam(
  name: string,
  description: string,
  example = '01a218b4-1d64-760c-9340-8ee79091f7cb',
) {
  return ApiParam({ name, description, format: 'uuid', type: String, example });
}

/**
 * The handler answers a JSON document as text, already rendered (by PostgreSQL: issue 17's read
 * routes). Fastify sends a string whose content type is set as it is, without serialising it
 * again; the route's @Endpoint still documents the response's shape.
 */
export function JsonText() {
  return Header('content-type', 'application/json; charset=utf-8');
}
