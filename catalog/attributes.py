"""
Product attributes and the JSON Schema (Draft 2020-12) a category may hold for them.

Merchants write these schemas, and every product write in the category runs
them inside the web process, so the one validator here is built to be safe
with hostile ones (jsonschema-rs):

- no reference ever leaves the schema: a retriever that refuses every URI
  stands in for the HTTP and file fetching a validator would otherwise do, and
  a schema whose `$ref` or `$dynamicRef` points outside itself is refused when
  the category is saved;
- `pattern`, `patternProperties` (and with them `additionalProperties` and
  `unevaluatedProperties`) run on the Rust `regex` engine, finite automata as in
  RE2, whose matching time grows linearly with the input: `^(a+)+$` cannot
  backtrack. Patterns it cannot compile (backreferences, lookaround, repetitions
  past its size limit) are refused when the category is saved;
- the schema is bounded in size and depth before anything reads it.

`format` stays an annotation, as Draft 2020-12 has it by default: no format,
`regex` included, is asserted, so no merchant-written expression runs there.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

import jsonschema_rs

from catalog.errors import AttributeSchemaInvalid, AttributesInvalid
from catalog.models import Category

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_MAX_BYTES = 32 * 1024
SCHEMA_MAX_DEPTH = 24
# Keywords whose values are data, not subschemas: a "$ref" inside them is not a reference.
DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef")


def _refuse_retrieval(uri: str) -> NoReturn:
    raise LookupError("references outside the schema are not followed")


def _validator(schema: dict[str, Any]) -> Any:
    """Build the validator; raise jsonschema_rs.ValidationError for a schema it cannot use."""
    return jsonschema_rs.Draft202012Validator(
        schema,
        validate_formats=False,
        pattern_options=jsonschema_rs.RegexOptions(),
        retriever=_refuse_retrieval,
    )


_META_VALIDATOR = _validator({"$ref": DIALECT})


def _field(path: list[str | int] | tuple[str | int, ...], root: str = "attribute_schema") -> str:
    return ".".join([root, *(str(part) for part in path)])


def _depth_exceeded(schema: Any) -> bool:
    pending: list[tuple[Any, int]] = [(schema, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > SCHEMA_MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _external_references(schema: Any) -> dict[str, list[str]]:
    """Every `$ref`/`$dynamicRef` that does not point into this schema (`#...`), by field."""
    errors: dict[str, list[str]] = {}
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(schema, ())]
    while pending:
        item, path = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in REFERENCE_KEYWORDS and isinstance(value, str) and not value.startswith("#"):
                    errors[_field((*path, key))] = [
                        "Only references within this schema (starting with #) are allowed; "
                        "nothing outside it is fetched."
                    ]
                elif key not in DATA_KEYWORDS:
                    pending.append((value, (*path, key)))
        elif isinstance(item, list):
            pending.extend((value, (*path, index)) for index, value in enumerate(item))
    return errors


def attribute_schema_check(schema: dict[str, Any] | None) -> None:
    """Refuse a category's `attribute_schema` that is not a usable, self-contained Draft 2020-12 schema."""
    if schema is None:
        return
    if len(json.dumps(schema, separators=(",", ":")).encode()) > SCHEMA_MAX_BYTES:
        _schema_invalid({"attribute_schema": [f"At most {SCHEMA_MAX_BYTES // 1024} kB of JSON."]})
    if _depth_exceeded(schema):
        _schema_invalid({"attribute_schema": [f"Nested at most {SCHEMA_MAX_DEPTH} levels deep."]})
    if schema.get("$schema", DIALECT) != DIALECT:
        _schema_invalid({"attribute_schema.$schema": [f"Only {DIALECT} (Draft 2020-12) is supported."]})
    errors = _external_references(schema)
    for error in _META_VALIDATOR.iter_errors(schema):
        errors.setdefault(_field(error.instance_path), []).append(error.message)
    if not errors:
        try:
            _validator(schema)  # compiles every pattern and resolves every reference
        except jsonschema_rs.ValidationError as exc:
            message = (
                f"{exc.message}: the pattern engine runs in linear time, without "
                "backreferences or lookaround."
                if exc.message.endswith('is not a "regex"')
                else exc.message
            )
            errors[_field(exc.instance_path)] = [message]
    if errors:
        _schema_invalid(errors)


def _schema_invalid(errors: dict[str, list[str]]) -> NoReturn:
    first_field, (first_message, *_) = next(iter(errors.items()))
    raise AttributeSchemaInvalid(
        f"attribute_schema is not a valid JSON Schema: {first_field}: {first_message}", errors=errors
    )


def attributes_check(attributes: dict[str, Any], category: Category | None) -> None:
    """Validate a product's attributes against its category's schema; field-level errors on failure."""
    if category is None or not category.attribute_schema:
        return
    try:
        validator = _validator(category.attribute_schema)
    except jsonschema_rs.ValidationError as exc:
        # Only a schema saved before these checks existed gets here (say, one with a remote $ref).
        raise AttributesInvalid(
            f"The schema of category {category.slug!r} cannot be used ({exc.message}); "
            "save the category with a valid schema first.",
            errors={"category": [exc.message]},
        ) from None
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(attributes):
        errors.setdefault(_field(error.instance_path, root="attributes"), []).append(error.message)
    if errors:
        raise AttributesInvalid(
            f"The attributes do not match the schema of category {category.slug!r}.", errors=errors
        )


# --- Attributes as shoppers read them --------------------------------------------------

UNIT_SUFFIX = re.compile(r"_(ml|l|g|kg|cm|mm|m|w|v|mah)$", re.IGNORECASE)


def attribute_order(schema: dict[str, Any] | None) -> list[str]:
    """The schema's property names in the order written (kept beside the schema: jsonb sorts keys)."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return [str(key) for key in properties] if isinstance(properties, dict) else []


def key_label(key: str) -> str:
    """An attribute name made readable, for one without a schema title: `capacity_ml` → "Capacity (ml)"."""
    unit = UNIT_SUFFIX.search(key)
    base = re.sub(r"[_-]+", " ", key[: unit.start()] if unit else key).strip()
    words = base[:1].upper() + base[1:]
    return f"{words} ({unit.group(1).lower()})" if unit else words


def _choice_titles(schema: dict[str, Any]) -> dict[str, str]:
    """`oneOf`/`anyOf` of `{"const": ..., "title": ...}`: the title of each choice (keyed by its JSON)."""
    titles = {}
    for keyword in ("oneOf", "anyOf"):
        choices = schema.get(keyword)
        for choice in choices if isinstance(choices, list) else ():
            if isinstance(choice, dict) and "const" in choice and isinstance(choice.get("title"), str):
                titles[json.dumps(choice["const"], sort_keys=True)] = choice["title"]
    return titles


def value_text(value: Any, schema: Any = None) -> str:
    """A value as the product page shows it: choices by their titles, yes/no, lists joined."""
    schema = schema if isinstance(schema, dict) else {}
    title = _choice_titles(schema).get(json.dumps(value, sort_keys=True))
    if title is not None:
        return title
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(value_text(item, schema.get("items")) for item in value if item is not None)
    if isinstance(value, dict):
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        return "; ".join(
            f"{key_label(str(key))}: {value_text(item, properties.get(key))}"
            for key, item in value.items()
            if item is not None
        )
    return str(value)


def attributes_shown(
    attributes: dict[str, Any], *, schema: dict[str, Any] | None, order: list[str]
) -> list[dict[str, str]]:
    """
    A product's attributes as its page lists them: in the category schema's
    property order (the others after them), each labelled with its schema `title`
    (or its name made readable), its value as text; empty values are left out.
    """
    found = schema.get("properties") if isinstance(schema, dict) else None
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    rank: dict[str, int] = {}
    for key in [*order, *properties]:  # a schema saved before its order was kept: jsonb's order
        rank.setdefault(key, len(rank))
    shown = []
    for key in sorted(attributes, key=lambda key: rank.get(key, len(rank))):
        value = attributes[key]
        if value is None or value == "" or value == [] or value == {}:
            continue
        prop = properties.get(key)
        title = prop.get("title") if isinstance(prop, dict) else None
        label = title.strip() if isinstance(title, str) and title.strip() else key_label(str(key))
        shown.append({"key": str(key), "label": label, "value": value_text(value, prop)})
    return shown


def product_attributes_shown(product: Any) -> list[dict[str, str]]:
    """attributes_shown for a product, by its category's schema (its category loaded with it)."""
    category = product.category
    return attributes_shown(
        product.attributes,
        schema=None if category is None else category.attribute_schema,
        order=[] if category is None else list(category.attribute_order),
    )
