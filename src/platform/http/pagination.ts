import { Type as TransformType } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Problems } from './problem';
import { IsCursor, IsOmittable } from './decorators';
import { UUID } from '../ids';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

/** A page size query parameter: an integer 1–100, `fallback` when left out. */
export function IsPageLimit(what: string, fallback: number) {
  const message = `limit must be an integer between 1 and ${MAX_PAGE_LIMIT}`;
  return applyDecorators(
    ApiPropertyOptional({
      description: `${what} per page, 1–${MAX_PAGE_LIMIT}.`,
      type: 'integer',
      minimum: 1,
      maximum: MAX_PAGE_LIMIT,
      default: fallback,
    }),
    IsOmittable(),
    TransformType(() => Number),
    IsInt({ message }),
    Min(1, { message }),
    Max(MAX_PAGE_LIMIT, { message }),
  );
}

export class PageQuery {
  @IsPageLimit('Items', DEFAULT_PAGE_LIMIT)
  limit?: number;

  @IsCursor()
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Swagger schema for a cursor page of `item`. */
export function PageOf<T>(item: new () => T, name: string) {
  class PageResponse {
    @ApiProperty({ type: () => [item] })
    data!: T[];

    @ApiProperty({
      type: String,
      nullable: true,
      description: 'Pass as `cursor` to get the next page; null on the last page.',
      example: null,
    })
    nextCursor!: string | null;
  }
  Object.defineProperty(PageResponse, 'name', { value: name });
  return PageResponse;
}

/** Opaque cursors: base64url of a JSON array of the sort key. */
export function encodeCursor(key: ReadonlyArray<string | number | null>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T extends (string | number | null)[]>(
  cursor: string,
  shape: readonly ('string' | 'number' | 'uuid' | 'timestamp')[],
): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(value) || value.length !== shape.length) throw malformed();
  shape.forEach((kind, i) => {
    const v: unknown = value[i];
    const ok =
      kind === 'number'
        ? typeof v === 'number' && Number.isFinite(v)
        : kind === 'uuid'
          ? typeof v === 'string' && UUID.test(v)
          : kind === 'timestamp'
            ? isCursorTimestamp(v)
            : // PostgreSQL text cannot hold NUL: such a cursor was never issued.
              typeof v === 'string' && !v.includes('\u0000');
    if (!ok) throw malformed();
  });
  return value as T;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?Z$/;

/**
 * A timestamp as the cursors carry it (ISO-8601 UTC, up to microseconds) naming a real instant:
 * JavaScript's Date.parse accepts "0" or February 30th, PostgreSQL does not, so the check is
 * strict rather than left to the database (where it would surface as a 500).
 */
export function isCursorTimestamp(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const match = TIMESTAMP.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  if (year < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function pageLimit(limit: number | undefined): number {
  return limit ?? DEFAULT_PAGE_LIMIT;
}

type CursorKey = (string | number | null)[];
type CursorShape = readonly ('string' | 'number' | 'uuid' | 'timestamp')[];

/**
 * A cursor-paginated list, the one recipe: decode the query's cursor (its sort key, checked
 * against `shape`), fetch `limit + 1` rows after it, cut the page and encode the next cursor from
 * the last row's sort key.
 */
export async function cursorList<R, T, K extends CursorKey>(
  query: PageQuery,
  shape: CursorShape,
  fetch: (limit: number, after: K | null) => Promise<R[]>,
  map: (row: R) => T,
  keyOf: (row: R) => K,
): Promise<Page<T>> {
  const limit = pageLimit(query.limit);
  const after = query.cursor ? decodeCursor<K>(query.cursor, shape) : null;
  return toPage(await fetch(limit + 1, after), limit, map, keyOf);
}

/** Fetch limit + 1 rows, then call this to cut the page and build its cursor. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  keyOf: (row: R) => (string | number | null)[],
): Page<T> {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  return {
    data: slice.map(map),
    nextCursor: more ? encodeCursor(keyOf(slice[slice.length - 1])) : null,
  };
}

/** The same problem as a cursor refused by the DTO's format check (validation-failed). */
function malformed() {
  return Problems.validation([
    {
      field: 'cursor',
      message: 'cursor is malformed; pass back the nextCursor of a previous page',
    },
  ]);
}
