"""Write Export-Clixml documents from Python values, with PowerShell's layout, escaping, TN/TNRef and RefIds.

Serves the sample generator, the cross-format parity tests and the benchmarks; the analyzer never writes
CLIXML for its own use.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from analyzer.readers.clixml import encode_string
from analyzer.readers.psvalues import PSDateTime, PSEnum, PSList, PSObject

_ENUM_BASES = ("System.Enum", "System.ValueType", "System.Object")
_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ClixmlWriter:
    """Streams objects into one document. `deserialized=True` gives the remote-session flavour: every type
    name carries `Deserialized.`, as when an Exchange Management Shell re-exports what the server sent."""

    def __init__(self, out: TextIO, *, deserialized: bool = False) -> None:
        self._out = out
        self._prefix = "Deserialized." if deserialized else ""
        self._type_lists: dict[tuple[str, ...], int] = {}
        self._next_ref = 0
        out.write('<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">\n')

    def close(self) -> None:
        self._out.write("</Objs>")

    def write_object(
        self,
        type_names: Sequence[str],
        properties: Mapping[str, Any],
        *,
        to_string: str | None = None,
        extended: Mapping[str, Any] | None = None,
    ) -> None:
        self._object(PSObject(tuple(type_names), to_string, dict(properties)), None, 1, extended)

    # -- internals ----------------------------------------------------------------------------------------
    def _ref_id(self) -> int:
        ref_id, self._next_ref = self._next_ref, self._next_ref + 1
        return ref_id

    def _type_names(self, names: Sequence[str], indent: str, prefix: bool = True) -> None:
        key = tuple(f"{self._prefix}{n}" if prefix and n not in _ENUM_BASES else n for n in names)
        known = self._type_lists.get(key)
        if known is not None:
            self._out.write(f'{indent}<TNRef RefId="{known}" />\n')
            return
        self._type_lists[key] = len(self._type_lists)
        self._out.write(f'{indent}<TN RefId="{self._type_lists[key]}">\n')
        for name in key:
            self._out.write(f"{indent}  <T>{_text(encode_string(name))}</T>\n")
        self._out.write(f"{indent}</TN>\n")

    def _object(self, obj: PSObject, name: str | None, level: int, extended: Mapping[str, Any] | None) -> None:
        indent = "  " * level
        n_attr = f' N="{_attr(encode_string(name))}"' if name is not None else ""
        self._out.write(f'{indent}<Obj{n_attr} RefId="{self._ref_id()}">\n')
        self._type_names(obj.type_names, indent + "  ")
        if obj.to_string is not None:
            self._out.write(f"{indent}  <ToString>{_text(encode_string(obj.to_string))}</ToString>\n")
        if obj.properties:
            self._out.write(f"{indent}  <Props>\n")
            for key, value in obj.properties.items():
                self._value(value, key, level + 2)
            self._out.write(f"{indent}  </Props>\n")
        if extended:
            self._out.write(f"{indent}  <MS>\n")
            for key, value in extended.items():
                self._value(value, key, level + 2)
            self._out.write(f"{indent}  </MS>\n")
        self._out.write(f"{indent}</Obj>\n")

    def _value(self, value: Any, name: str | None, level: int) -> None:
        indent = "  " * level
        n_attr = f' N="{_attr(encode_string(name))}"' if name is not None else ""
        if value is None:
            self._out.write(f"{indent}<Nil{n_attr} />\n")
        elif isinstance(value, bool):
            self._out.write(f"{indent}<B{n_attr}>{'true' if value else 'false'}</B>\n")
        elif isinstance(value, int):
            tag = "I32" if _I32_MIN <= value <= _I32_MAX else "I64"
            self._out.write(f"{indent}<{tag}{n_attr}>{value}</{tag}>\n")
        elif isinstance(value, float):
            self._out.write(f"{indent}<Db{n_attr}>{value!r}</Db>\n")
        elif isinstance(value, str):
            text = _text(encode_string(value))
            self._out.write(f"{indent}<S{n_attr}>{text}</S>\n" if text else f"{indent}<S{n_attr} />\n")
        elif isinstance(value, bytes):
            self._out.write(f"{indent}<BA{n_attr}>{base64.b64encode(value).decode('ascii')}</BA>\n")
        elif isinstance(value, uuid.UUID):
            self._out.write(f"{indent}<G{n_attr}>{value}</G>\n")
        elif isinstance(value, PSDateTime):
            self._out.write(f"{indent}<DT{n_attr}>{value.isoformat()}</DT>\n")
        elif isinstance(value, PSEnum):
            self._out.write(f'{indent}<Obj{n_attr} RefId="{self._ref_id()}">\n')
            self._type_names((value.type_name, *_ENUM_BASES), indent + "  ")
            self._out.write(f"{indent}  <ToString>{_text(value.name)}</ToString>\n")
            tag = "I32" if _I32_MIN <= value.value <= _I32_MAX else "I64"
            self._out.write(f"{indent}  <{tag}>{value.value}</{tag}>\n{indent}</Obj>\n")
        elif isinstance(value, list):
            type_names = (
                value.type_names
                if isinstance(value, PSList) and value.type_names
                else ("System.Object[]", "System.Array", "System.Object")
            )
            self._out.write(f'{indent}<Obj{n_attr} RefId="{self._ref_id()}">\n')
            self._type_names(type_names, indent + "  ")
            if value:
                self._out.write(f"{indent}  <LST>\n")
                for item in value:
                    self._value(item, None, level + 2)
                self._out.write(f"{indent}  </LST>\n")
            else:
                self._out.write(f"{indent}  <LST />\n")
            self._out.write(f"{indent}</Obj>\n")
        elif isinstance(value, PSObject):
            self._object(value, name, level, None)
        else:
            raise TypeError(f"cannot write {type(value).__name__} as CLIXML")
