"""Block Kit validation, the way Slack's API checks blocks before accepting a message or a view.

The rules live in tables (`BLOCKS`, `ELEMENTS`): each block or element type maps to a `Spec`, a
tuple of `Rule`s, one per field. `validate_blocks` walks a surface and returns Slack-style messages
such as ``[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]``; an empty
list means the blocks are valid.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_ID = 255

TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
SELECTS = frozenset({"static_select", "external_select", "users_select", "conversations_select", "channels_select"})
MULTI_SELECTS = frozenset(f"multi_{name}" for name in SELECTS)
INTERACTIVE = SELECTS | MULTI_SELECTS | {
    "button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons", "timepicker",
    "workflow_button",
}
ACTIONS_ELEMENTS = INTERACTIVE | {"rich_text_input"}
ACCESSORIES = INTERACTIVE | {"image"}
INPUT_ELEMENTS = SELECTS | MULTI_SELECTS | {
    "checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input", "number_input",
    "plain_text_input", "radio_buttons", "rich_text_input", "timepicker", "url_text_input",
}
CONTEXT_ELEMENTS = TEXT_TYPES | {"image"}


@dataclass(frozen=True)
class Rule:
    """One field of a block, element or composition object."""

    key: str
    kind: str  # a key of _KIND_CHECKS
    required: bool = False
    max_len: int | None = None  # characters of a string or of a text object's text
    max_items: int | None = None
    min_items: int = 0
    allowed: frozenset[str] = frozenset()  # element types, or enum values
    spec: Spec | None = None  # for "object" / "objects"


@dataclass(frozen=True)
class Spec:
    rules: tuple[Rule, ...]
    one_of: tuple[str, ...] = ()  # at least one of these keys must be present


@dataclass
class _Walk:
    """What a walk over one surface collects."""

    errors: list[str] = field(default_factory=list)
    action_ids: set[str] = field(default_factory=set)  # within the current block

    def fail(self, pointer: str, message: str) -> None:
        self.errors.append(f"[ERROR] {message} [json-pointer:{pointer}]")


def _plain(key: str, max_len: int, *, required: bool = False) -> Rule:
    return Rule(key, "plain", required=required, max_len=max_len)


def _str(key: str, max_len: int | None = None, *, required: bool = False) -> Rule:
    return Rule(key, "str", required=required, max_len=max_len)


ACTION_ID = _str("action_id", MAX_ID)
PLACEHOLDER = _plain("placeholder", 150)
CONFIRM = Rule(
    "confirm",
    "object",
    spec=Spec(
        (
            _plain("title", 100, required=True),
            Rule("text", "text", required=True, max_len=300),
            _plain("confirm", 30, required=True),
            _plain("deny", 30, required=True),
            Rule("style", "enum", allowed=frozenset({"primary", "danger"})),
        )
    ),
)
OPTION = Spec(
    (
        Rule("text", "text", required=True, max_len=75),
        _str("value", 150, required=True),
        _plain("description", 75),
        _str("url", 3000),
    )
)
OPTION_GROUP = Spec(
    (_plain("label", 75, required=True), Rule("options", "objects", True, max_items=100, spec=OPTION))
)


def _options(max_items: int, *, required: bool = False, min_items: int = 0) -> Rule:
    return Rule("options", "objects", required, max_items=max_items, min_items=min_items, spec=OPTION)


def _select(*extra: Rule) -> Spec:
    return Spec((ACTION_ID, PLACEHOLDER, CONFIRM, Rule("focus_on_load", "bool"), *extra))


INITIAL_OPTION = Rule("initial_option", "object", spec=OPTION)
INITIAL_OPTIONS = Rule("initial_options", "objects", spec=OPTION)
STATIC_OPTIONS = (_options(100), Rule("option_groups", "objects", max_items=100, spec=OPTION_GROUP))

ELEMENTS: dict[str, Spec] = {
    "button": Spec(
        (
            _plain("text", 75, required=True),
            ACTION_ID,
            _str("url", 3000),
            _str("value", 2000),
            Rule("style", "enum", allowed=frozenset({"primary", "danger"})),
            CONFIRM,
            _str("accessibility_label", 75),
        )
    ),
    "static_select": Spec(_select(*STATIC_OPTIONS, INITIAL_OPTION).rules, one_of=("options", "option_groups")),
    "multi_static_select": Spec(
        _select(*STATIC_OPTIONS, INITIAL_OPTIONS, Rule("max_selected_items", "int")).rules,
        one_of=("options", "option_groups"),
    ),
    "external_select": _select(INITIAL_OPTION, Rule("min_query_length", "int")),
    "multi_external_select": _select(INITIAL_OPTIONS, Rule("min_query_length", "int")),
    "users_select": _select(_str("initial_user")),
    "multi_users_select": _select(Rule("initial_users", "list")),
    "conversations_select": _select(_str("initial_conversation"), Rule("filter", "any")),
    "multi_conversations_select": _select(Rule("initial_conversations", "list"), Rule("filter", "any")),
    "channels_select": _select(_str("initial_channel")),
    "multi_channels_select": _select(Rule("initial_channels", "list")),
    "overflow": Spec((ACTION_ID, _options(5, required=True, min_items=1), CONFIRM)),
    "checkboxes": Spec((ACTION_ID, _options(10, required=True, min_items=1), INITIAL_OPTIONS, CONFIRM)),
    "radio_buttons": Spec((ACTION_ID, _options(10, required=True, min_items=1), INITIAL_OPTION, CONFIRM)),
    "datepicker": _select(_str("initial_date")),
    "timepicker": _select(_str("initial_time"), _str("timezone")),
    "datetimepicker": Spec((ACTION_ID, CONFIRM, Rule("initial_date_time", "int"))),
    "plain_text_input": Spec(
        (
            ACTION_ID,
            PLACEHOLDER,
            _str("initial_value", 3000),
            Rule("multiline", "bool"),
            Rule("min_length", "int"),
            Rule("max_length", "int"),
        )
    ),
    "email_text_input": Spec((ACTION_ID, PLACEHOLDER, _str("initial_value"))),
    "url_text_input": Spec((ACTION_ID, PLACEHOLDER, _str("initial_value"))),
    "number_input": Spec(
        (ACTION_ID, PLACEHOLDER, Rule("is_decimal_allowed", "bool", required=True), _str("initial_value"))
    ),
    "rich_text_input": Spec((ACTION_ID, PLACEHOLDER, Rule("initial_value", "any"))),
    "file_input": Spec((ACTION_ID, Rule("filetypes", "list"), Rule("max_files", "int"))),
    "workflow_button": Spec((_plain("text", 75, required=True), ACTION_ID, Rule("workflow", "any", True))),
    "image": Spec(
        (_str("image_url", 3000), Rule("slack_file", "any"), _str("alt_text", 2000, required=True)),
        one_of=("image_url", "slack_file"),
    ),
}

BLOCK_ID = _str("block_id", MAX_ID)
BLOCKS: dict[str, Spec] = {
    "section": Spec(
        (
            BLOCK_ID,
            Rule("text", "text", max_len=3000),
            Rule("fields", "texts", max_items=10, max_len=2000),
            Rule("accessory", "element", allowed=ACCESSORIES),
            Rule("expand", "bool"),
        ),
        one_of=("text", "fields"),
    ),
    "header": Spec((BLOCK_ID, _plain("text", 150, required=True))),
    "divider": Spec((BLOCK_ID,)),
    "context": Spec(
        (BLOCK_ID, Rule("elements", "elements", True, max_items=10, min_items=1, allowed=CONTEXT_ELEMENTS))
    ),
    "actions": Spec(
        (BLOCK_ID, Rule("elements", "elements", True, max_items=25, min_items=1, allowed=ACTIONS_ELEMENTS))
    ),
    "input": Spec(
        (
            BLOCK_ID,
            _plain("label", 2000, required=True),
            Rule("element", "element", required=True, allowed=INPUT_ELEMENTS),
            Rule("dispatch_action", "bool"),
            _plain("hint", 2000),
            Rule("optional", "bool"),
        )
    ),
    "image": Spec(
        (
            BLOCK_ID,
            _str("image_url", 3000),
            Rule("slack_file", "any"),
            _str("alt_text", 2000, required=True),
            _plain("title", 2000),
        ),
        one_of=("image_url", "slack_file"),
    ),
    "rich_text": Spec((BLOCK_ID, Rule("elements", "list", required=True))),
    "markdown": Spec((BLOCK_ID, _str("text", 12000, required=True))),
}


# --- the checks, one per rule kind -------------------------------------------------------------


def _check_str(value: Any, rule: Rule, ptr: str, walk: _Walk) -> None:
    if not isinstance(value, str):
        walk.fail(ptr, "must be a string")
    elif rule.max_len is not None and len(value) > rule.max_len:
        walk.fail(ptr, f"must be less than {rule.max_len + 1} characters")


def _check_text(value: Any, rule: Rule, ptr: str, walk: _Walk, types: frozenset[str] = TEXT_TYPES) -> None:
    if not isinstance(value, dict):
        walk.fail(ptr, "must provide an object")
        return
    if value.get("type") not in types:
        walk.fail(f"{ptr}/type", f"must be one of: {', '.join(sorted(types))}")
    text = value.get("text")
    if not isinstance(text, str):
        walk.fail(ptr, "missing required field: text")
    elif not text:
        walk.fail(f"{ptr}/text", "must be more than 0 characters")
    elif rule.max_len is not None and len(text) > rule.max_len:
        walk.fail(f"{ptr}/text", f"must be less than {rule.max_len + 1} characters")


def _check_plain(value: Any, rule: Rule, ptr: str, walk: _Walk) -> None:
    _check_text(value, rule, ptr, walk, frozenset({"plain_text"}))


def _check_list(value: Any, rule: Rule, ptr: str, walk: _Walk) -> bool:
    if not isinstance(value, list):
        walk.fail(ptr, "must provide an array")
        return False
    if len(value) < rule.min_items:
        walk.fail(ptr, f"must provide at least {rule.min_items} items")
    if rule.max_items is not None and len(value) > rule.max_items:
        walk.fail(ptr, f"no more than {rule.max_items} items allowed")
    return True


def _check_texts(value: Any, rule: Rule, ptr: str, walk: _Walk) -> None:
    if _check_list(value, rule, ptr, walk):
        for index, item in enumerate(value):
            _check_text(item, rule, f"{ptr}/{index}", walk)


def _check_object(value: Any, rule: Rule, ptr: str, walk: _Walk) -> None:
    if not isinstance(value, dict):
        walk.fail(ptr, "must provide an object")
    elif rule.spec is not None:
        _check_spec(value, rule.spec, ptr, walk)


def _check_objects(value: Any, rule: Rule, ptr: str, walk: _Walk) -> None:
    if _check_list(value, rule, ptr, walk):
        for index, item in enumerate(value):
            _check_object(item, rule, f"{ptr}/{index}", walk)


def _check_element(value: Any, rule: Rule, ptr: str, walk: _Walk) -> None:
    if not isinstance(value, dict):
        walk.fail(ptr, "must provide an object")
        return
    kind = value.get("type")
    if kind not in rule.allowed:
        walk.fail(f"{ptr}/type", f"unsupported type: {kind}")
        return
    if kind in TEXT_TYPES:
        _check_text(value, Rule("text", "text", max_len=3000), ptr, walk)
        return
    _check_spec(value, ELEMENTS[kind], ptr, walk)
    action_id = value.get("action_id")
    if isinstance(action_id, str):
        if action_id in walk.action_ids:
            walk.fail(f"{ptr}/action_id", f"duplicate action_id: {action_id}")
        walk.action_ids.add(action_id)


def _check_elements(value: Any, rule: Rule, ptr: str, walk: _Walk) -> None:
    if _check_list(value, rule, ptr, walk):
        for index, item in enumerate(value):
            _check_element(item, rule, f"{ptr}/{index}", walk)


def _check_enum(value: Any, rule: Rule, ptr: str, walk: _Walk) -> None:
    if value not in rule.allowed:
        walk.fail(ptr, "must be a valid enum value")


def _check_type(expected: type | tuple[type, ...], name: str) -> Callable[[Any, Rule, str, _Walk], None]:
    def check(value: Any, rule: Rule, ptr: str, walk: _Walk) -> None:
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            walk.fail(ptr, f"must be {name}")

    return check


_KIND_CHECKS: dict[str, Callable[[Any, Rule, str, _Walk], Any]] = {
    "str": _check_str,
    "text": _check_text,
    "plain": _check_plain,
    "texts": _check_texts,
    "object": _check_object,
    "objects": _check_objects,
    "element": _check_element,
    "elements": _check_elements,
    "enum": _check_enum,
    "bool": _check_type(bool, "a boolean"),
    "int": _check_type(int, "an integer"),
    "list": _check_type(list, "an array"),
    "any": lambda value, rule, ptr, walk: None,
}


def _check_spec(obj: dict[str, Any], spec: Spec, ptr: str, walk: _Walk) -> None:
    for rule in spec.rules:
        value = obj.get(rule.key)
        if value is None:
            if rule.required:
                walk.fail(ptr, f"missing required field: {rule.key}")
            continue
        _KIND_CHECKS[rule.kind](value, rule, f"{ptr}/{rule.key}", walk)
    if spec.one_of and all(obj.get(key) is None for key in spec.one_of):
        walk.fail(ptr, f"must provide one of: {', '.join(spec.one_of)}")


def validate_object(obj: dict[str, Any], spec: Spec, pointer: str) -> list[str]:
    """Slack-style error messages for one object checked against a `Spec` (e.g. a view's fields)."""
    walk = _Walk()
    _check_spec(obj, spec, pointer, walk)
    return walk.errors


def validate_blocks(blocks: Any, *, max_blocks: int, pointer: str = "/blocks") -> list[str]:
    """Slack-style error messages for a surface's blocks; [] when they are valid.

    block_ids must be unique on the surface; action_ids must be unique within their block (Block
    Kit: "unique among all other action_ids in the containing block").
    """
    walk = _Walk()
    if not isinstance(blocks, list):
        walk.fail(pointer, "must provide an array")
        return walk.errors
    if len(blocks) > max_blocks:
        walk.fail(pointer, f"no more than {max_blocks} items allowed")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        ptr = f"{pointer}/{index}"
        if not isinstance(block, dict):
            walk.fail(ptr, "must provide an object")
            continue
        spec = BLOCKS.get(block.get("type"))  # type: ignore[arg-type]
        if spec is None:
            walk.fail(f"{ptr}/type", f"unsupported type: {block.get('type')}")
            continue
        walk.action_ids = set()
        _check_spec(block, spec, ptr, walk)
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in block_ids:
                walk.fail(f"{ptr}/block_id", f"duplicate block_id: {block_id}")
            block_ids.add(block_id)
    return walk.errors


def interactive_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The elements of a block that carry an action_id (actions, section accessory, input element)."""
    found: list[dict[str, Any]] = []
    if block.get("type") == "actions":
        found.extend(e for e in block.get("elements", []) if isinstance(e, dict))
    for key in ("accessory", "element"):
        element = block.get(key)
        if isinstance(element, dict):
            found.append(element)
    return [e for e in found if e.get("type") in INTERACTIVE | INPUT_ELEMENTS]


def fill_ids(blocks: list[dict[str, Any]], rng: random.Random) -> None:
    """Give every block a block_id and every interactive element an action_id, as Slack does."""
    alphabet = string.ascii_letters + string.digits + "+/="

    def new_id() -> str:
        return "".join(rng.choice(alphabet) for _ in range(5))

    for block in blocks:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", new_id())
        for element in interactive_elements(block):
            element.setdefault("action_id", new_id())
