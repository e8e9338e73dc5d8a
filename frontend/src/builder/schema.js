// Checks JSON against the team spec's JSON Schema (the catalog's `spec_schema`, made by
// pydantic from studio/teams/spec.py), in the browser, as the JSON is typed. It knows the
// keywords that schema uses: $ref into $defs, anyOf/oneOf (a discriminator picks the
// branch), const, enum, type, properties, required, items, and the size bounds. Problems
// carry the spec's paths (`participants[1].model.provider`), like the server's. The server
// still checks everything else (names, tools, credentials) on save.

import { isObject } from "./spec.js";

const MAX_PROBLEMS = 200;

function join(path, key) {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value, type) {
  const actual = typeOf(value);
  if (Array.isArray(type)) return type.some((item) => matchesType(value, item));
  return actual === type || (type === "number" && actual === "integer");
}

const TYPE_WORDS = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  null: "null",
};

class Checker {
  constructor(root) {
    this.root = root;
    this.problems = [];
  }

  add(path, message) {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ path, message });
  }

  resolve(schema) {
    let current = schema;
    for (let hops = 0; isObject(current) && typeof current.$ref === "string" && hops < 20; hops++) {
      const name = current.$ref.replace(/^#\/\$defs\//, "");
      current = this.root.$defs?.[name];
    }
    return isObject(current) ? current : {};
  }

  /** Whether `value` fits `schema`, without recording anything. */
  fits(value, schema) {
    const probe = new Checker(this.root);
    probe.check(value, schema, "");
    return probe.problems.length === 0;
  }

  check(value, rawSchema, path) {
    const schema = this.resolve(rawSchema);
    if (schema.discriminator && Array.isArray(schema.oneOf)) {
      return this.tagged(value, schema, path);
    }
    const options = schema.anyOf || schema.oneOf;
    if (Array.isArray(options)) return this.either(value, options, path);
    if ("const" in schema && value !== schema.const) {
      return this.add(path, `must be ${JSON.stringify(schema.const)}`);
    }
    if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
      const choices = schema.enum.map((choice) => JSON.stringify(choice)).join(", ");
      return this.add(path, `must be one of ${choices}`);
    }
    if (schema.type && !matchesType(value, schema.type)) {
      const wanted = [].concat(schema.type).map((type) => TYPE_WORDS[type] || type);
      return this.add(path, `must be ${wanted.join(" or ")}`);
    }
    if (typeof value === "string") this.text(value, schema, path);
    else if (typeof value === "number") this.number(value, schema, path);
    else if (Array.isArray(value)) this.list(value, schema, path);
    else if (isObject(value)) this.object(value, schema, path);
    return undefined;
  }

  tagged(value, schema, path) {
    const key = schema.discriminator.propertyName;
    if (!isObject(value)) return this.add(path, "must be an object");
    const tag = value[key];
    const target = schema.discriminator.mapping?.[tag];
    if (tag === undefined) return this.add(join(path, key), "is required");
    if (!target) {
      const known = Object.keys(schema.discriminator.mapping || {}).join(", ");
      return this.add(join(path, key), `unknown ${key} "${tag}" (one of ${known})`);
    }
    return this.check(value, { $ref: target }, path);
  }

  either(value, options, path) {
    if (options.some((option) => this.fits(value, option))) return undefined;
    // Report the branch the value is closest to: the first one of its type.
    const typed = options.find((option) => {
      const resolved = this.resolve(option);
      return resolved.discriminator || (resolved.type && matchesType(value, resolved.type));
    });
    if (typed) return this.check(value, typed, path);
    const wanted = options
      .map((option) => this.resolve(option).type)
      .filter(Boolean)
      .map((type) => TYPE_WORDS[type] || type);
    return this.add(path, wanted.length ? `must be ${wanted.join(" or ")}` : "is not valid here");
  }

  text(value, schema, path) {
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      const count = schema.minLength;
      this.add(path, count === 1 ? "must not be empty" : `needs ${count}+ characters`);
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      this.add(path, `must be at most ${schema.maxLength} characters`);
    }
    if (schema.pattern && !new RegExp(schema.pattern, "u").test(value)) {
      this.add(path, "has characters that are not allowed here");
    }
  }

  number(value, schema, path) {
    if (schema.minimum !== undefined && value < schema.minimum) {
      this.add(path, `must be at least ${schema.minimum}`);
    }
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
      this.add(path, `must be more than ${schema.exclusiveMinimum}`);
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      this.add(path, `must be at most ${schema.maximum}`);
    }
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) {
      this.add(path, `must be less than ${schema.exclusiveMaximum}`);
    }
  }

  list(value, schema, path) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      this.add(path, `needs at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      this.add(path, `holds at most ${schema.maxItems} items`);
    }
    if (!schema.items) return;
    value.forEach((item, index) => this.check(item, schema.items, join(path, index)));
  }

  object(value, schema, path) {
    for (const name of schema.required || []) {
      if (value[name] === undefined) this.add(join(path, name), "is required");
    }
    const properties = schema.properties || {};
    for (const [name, child] of Object.entries(value)) {
      if (properties[name]) this.check(child, properties[name], join(path, name));
      else if (schema.additionalProperties === false) {
        this.add(join(path, name), "is not a field here");
      }
    }
  }
}

/** Every way `value` does not fit `schema` (the catalog's spec_schema): [{path, message}]. */
export function checkSchema(value, schema) {
  if (!isObject(schema)) return [];
  const checker = new Checker(schema);
  checker.check(value, schema, "");
  return checker.problems;
}
