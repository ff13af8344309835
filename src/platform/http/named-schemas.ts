import {
  ApiProperty,
  ApiPropertyOptional,
  getSchemaPath,
  type ApiPropertyOptions,
  type OpenAPIObject,
  type SchemaObject,
} from '@nestjs/swagger';

/**
 * Component schemas declared by name rather than derived from a class: enums (each one schema,
 * referenced wherever it is used, so that a generated client has one type per concept) and
 * unions. buildOpenApiDocument puts them into the document.
 */
const NAMED = new Map<string, SchemaObject>();

function register(name: string, schema: SchemaObject): void {
  const prior = NAMED.get(name);
  if (prior && JSON.stringify(prior) !== JSON.stringify(schema)) {
    throw new Error(`The OpenAPI schema ${name} is declared twice, differently`);
  }
  NAMED.set(name, schema);
}

/** A union (oneOf) or other schema no class describes; the answer is its $ref. */
export function namedSchema(name: string, schema: SchemaObject): { $ref: string } {
  register(name, schema);
  return { $ref: getSchemaPath(name) };
}

export interface NamedEnum<T extends string = string> {
  /** The component schema's name (`MemberRole`): the generated client's type name. */
  readonly name: string;
  readonly values: readonly T[];
}

/**
 * An enum documented once, as the component schema `name` with its own description (@nestjs/swagger
 * would take the description of whichever property it met first).
 */
export function namedEnum<T extends string>(
  name: string,
  values: readonly T[],
  description: string,
): NamedEnum<T> {
  register(name, { type: 'string', enum: [...values], description });
  return { name, values };
}

/** The @ApiProperty / @ApiQuery options that reference the enum's schema (one value, or a list). */
export function enumRef(e: NamedEnum, isArray = false) {
  return { enum: [...e.values], enumName: e.name, ...(isArray ? { isArray: true } : {}) };
}

type EnumPropertyOptions = Omit<ApiPropertyOptions, 'enum' | 'enumName' | 'type' | 'isArray'> & {
  isArray?: boolean;
};

/** A property whose value is one of the enum's (or, with isArray, a list of them). */
export function ApiEnumProperty(e: NamedEnum, options: EnumPropertyOptions = {}) {
  const { isArray, ...rest } = options;
  return ApiProperty({ ...rest, ...enumRef(e, isArray) } as ApiPropertyOptions);
}

/** ApiEnumProperty, optional. */
export function ApiEnumPropertyOptional(e: NamedEnum, options: EnumPropertyOptions = {}) {
  const { isArray, ...rest } = options;
  return ApiPropertyOptional({ ...rest, ...enumRef(e, isArray) } as ApiPropertyOptions);
}

/**
 * Puts the named schemas into the document: those @nestjs/swagger wrote for a referenced enum are
 * replaced by the declared ones (values and description), the others are added.
 */
export function addNamedSchemas(document: OpenAPIObject): OpenAPIObject {
  const schemas = (document.components ??= {}).schemas ?? {};
  for (const [name, schema] of [...NAMED.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    schemas[name] = schema;
  }
  document.components.schemas = schemas;
  return document;
}
