"""Constant folding of Python string construction, over the standard `ast`.

Agents (and attackers) build commands and hosts from pieces: `chr()` joins, `bytes.fromhex`,
base64 and codecs decoding, `''.join`, slices and reversal, f-strings and `%`/`format` of
constants, names assigned earlier. `Folder.fold(expr)` returns the value when it is known
statically, else `UNKNOWN`. It never executes trajectory code: each supported operation is
re-implemented on already-folded constants, with bounds on depth and value size.
"""
from __future__ import annotations

import ast
import base64
import binascii
import codecs
import zlib
from typing import Any

__all__ = ["UNKNOWN", "Folder", "as_text"]


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

_B64 = {
    "b64decode": base64.b64decode, "standard_b64decode": base64.standard_b64decode,
    "urlsafe_b64decode": base64.urlsafe_b64decode, "b32decode": base64.b32decode,
    "b16decode": base64.b16decode, "a85decode": base64.a85decode, "b85decode": base64.b85decode,
    "decodebytes": base64.decodebytes, "a2b_base64": binascii.a2b_base64,
    "unhexlify": binascii.unhexlify, "a2b_hex": binascii.a2b_hex,
}
_STAT = {"S_ISUID": 0o4000, "S_ISGID": 0o2000, "S_ISVTX": 0o1000, "S_IRWXU": 0o700,
         "S_IRUSR": 0o400, "S_IWUSR": 0o200, "S_IXUSR": 0o100, "S_IRWXG": 0o70, "S_IRWXO": 0o7}
_STR_METHODS = frozenset(("upper", "lower", "strip", "lstrip", "rstrip", "title", "capitalize",
                          "swapcase", "casefold"))


def as_text(value: Any) -> str | None:
    """A folded value as text (bytes decoded leniently), or None."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


class Folder:
    """Folds expressions against `env` (name -> value) and `aliases` (local name -> module path)."""

    def __init__(self, env: dict[str, Any], aliases: dict[str, str], max_value: int) -> None:
        self.env, self.aliases, self.max_value = env, aliases, max_value

    def fold(self, node: ast.AST | None, depth: int = 0) -> Any:
        if node is None or depth > 40:
            return UNKNOWN
        try:
            value = self._fold(node, depth + 1)
        except (ValueError, TypeError, binascii.Error, OverflowError, UnicodeError, zlib.error,
                IndexError, KeyError, ZeroDivisionError, MemoryError, RecursionError, AttributeError):
            return UNKNOWN
        if isinstance(value, (str, bytes, bytearray, list, tuple)) and len(value) > self.max_value:
            return UNKNOWN
        return value

    def _fold(self, node: ast.AST, depth: int) -> Any:
        f = self.fold
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                x = f(v, depth)
                if x is UNKNOWN:
                    return UNKNOWN
                parts.append(x if isinstance(x, str) else str(x))
            return "".join(parts)
        if isinstance(node, ast.FormattedValue):
            x = f(node.value, depth)
            if x is UNKNOWN or node.format_spec is not None:
                return UNKNOWN
            return (repr(x) if node.conversion == ord("r") else str(x)) if not isinstance(x, str) else x
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [f(e, depth) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Name):
            return self.env.get(node.id, UNKNOWN)
        if isinstance(node, ast.Attribute):
            if node.attr in _STAT and self.qual(node.value) == "stat":
                return _STAT[node.attr]
            return UNKNOWN
        if isinstance(node, ast.BinOp):
            return self._binop(node, depth)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            x = f(node.operand, depth)
            return -x if isinstance(x, int) else UNKNOWN
        return UNKNOWN

    def _binop(self, node: ast.BinOp, depth: int) -> Any:
        a, b = self.fold(node.left, depth), self.fold(node.right, depth)
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        op = node.op
        if isinstance(op, ast.Add) and type(a) is type(b) and isinstance(a, (str, bytes, int, list, tuple)):
            return a + b
        if isinstance(op, ast.Mult):
            if isinstance(a, (str, bytes, list)) and isinstance(b, int) and 0 <= b and len(a) * b <= self.max_value:
                return a * b
            if isinstance(a, int) and isinstance(b, int) and abs(a) < 1 << 32 and abs(b) < 1 << 32:
                return a * b
        if isinstance(op, ast.Mod) and isinstance(a, str):
            if _safe_format(a):
                return a % (tuple(b) if isinstance(b, (list, tuple)) else b)
        if isinstance(a, int) and isinstance(b, int) and abs(a) < 1 << 32 and abs(b) < 1 << 32:
            # integer arithmetic of character codes: `chr(c ^ 7)`, `chr(c - 3)`, `chr(c % 256)`
            if isinstance(op, ast.BitOr):
                return a | b
            if isinstance(op, ast.BitXor):
                return a ^ b
            if isinstance(op, ast.BitAnd):
                return a & b
            if isinstance(op, ast.Sub):
                return a - b
            if isinstance(op, (ast.Mod, ast.FloorDiv)) and b:
                return a % b if isinstance(op, ast.Mod) else a // b
            if isinstance(op, (ast.LShift, ast.RShift)) and 0 <= b < 32:
                return a << b if isinstance(op, ast.LShift) else a >> b
        return UNKNOWN

    def _subscript(self, node: ast.Subscript, depth: int) -> Any:
        value = self.fold(node.value, depth)
        if value is UNKNOWN or not isinstance(value, (str, bytes, list, tuple)):
            return UNKNOWN
        s = node.slice
        if isinstance(s, ast.Slice):
            parts = [self.fold(p, depth) if p is not None else None for p in (s.lower, s.upper, s.step)]
            if any(p is UNKNOWN or (p is not None and not isinstance(p, int)) for p in parts):
                return UNKNOWN
            if parts[2] == 0:
                return UNKNOWN
            return value[slice(*parts)]
        index = self.fold(s, depth)
        return value[index] if isinstance(index, int) else UNKNOWN

    def qual(self, node: ast.AST, depth: int = 0) -> str | None:
        """The dotted name an expression refers to, with import aliases resolved."""
        if depth > 20:
            return None
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qual(node.value, depth + 1)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            fn = self.qual(node.func, depth + 1)
            if fn in ("__import__", "importlib.import_module") and node.args:
                mod = self.fold(node.args[0])
                return mod if isinstance(mod, str) else None
            if fn == "getattr" and len(node.args) >= 2:
                base = self.qual(node.args[0], depth + 1)
                attr = self.fold(node.args[1])
                return f"{base}.{attr}" if base and isinstance(attr, str) else None
        return None

    def _call(self, node: ast.Call, depth: int) -> Any:
        f = self.fold
        args = node.args
        fn = node.func
        if isinstance(fn, ast.Attribute):
            recv_q = self.qual(fn.value)
            name = fn.attr
            if recv_q in ("base64", "binascii") and name in _B64 and args:
                data = f(args[0], depth)
                if isinstance(data, str):
                    data = data.encode()
                return _B64[name](data) if isinstance(data, (bytes, bytearray)) else UNKNOWN
            if recv_q in ("bytes", "bytearray") and name == "fromhex" and args:
                x = f(args[0], depth)
                return bytes.fromhex(x) if isinstance(x, str) else UNKNOWN
            if recv_q == "codecs" and name in ("decode", "encode") and args:
                x = f(args[0], depth)
                enc = f(args[1], depth) if len(args) > 1 else "utf-8"
                if isinstance(enc, str) and enc.replace("-", "_").lower() in ("rot13", "rot_13"):
                    return codecs.decode(x, "rot13") if isinstance(x, str) else UNKNOWN
                if isinstance(enc, str) and enc.lower() in ("hex", "base64", "hex_codec", "base64_codec"):
                    data = x.encode() if isinstance(x, str) else x
                    return codecs.decode(data, enc) if isinstance(data, bytes) else UNKNOWN
                return UNKNOWN
            if recv_q == "zlib" and name == "decompress" and args:
                x = f(args[0], depth)
                if isinstance(x, bytes):
                    d = zlib.decompressobj()
                    out = d.decompress(x, self.max_value + 1)
                    return out if len(out) <= self.max_value else UNKNOWN
                return UNKNOWN
            recv = f(fn.value, depth)
            if recv is UNKNOWN:
                return UNKNOWN
            if name == "join" and isinstance(recv, (str, bytes)) and args:
                items = self._iterable(args[0], depth)
                if items is UNKNOWN or any(not isinstance(i, type(recv)) for i in items):
                    return UNKNOWN
                return recv.join(items)
            if name == "decode" and isinstance(recv, (bytes, bytearray)):
                enc = f(args[0], depth) if args else "utf-8"
                return bytes(recv).decode(enc if isinstance(enc, str) else "utf-8", "replace")
            if name == "encode" and isinstance(recv, str):
                return recv.encode("utf-8", "replace")
            if name == "replace" and isinstance(recv, (str, bytes)) and len(args) >= 2:
                a, b = f(args[0], depth), f(args[1], depth)
                if type(a) is type(recv) and type(b) is type(recv):
                    out = recv.replace(a, b)
                    return out if len(out) <= self.max_value else UNKNOWN
                return UNKNOWN
            if name in _STR_METHODS and isinstance(recv, str) and not args:
                return getattr(recv, name)()
            if name == "format" and isinstance(recv, str) and _safe_format(recv, "{"):
                pos = [f(a, depth) for a in args]
                kw = {k.arg: f(k.value, depth) for k in node.keywords if k.arg}
                if any(v is UNKNOWN for v in pos) or any(v is UNKNOWN for v in kw.values()):
                    return UNKNOWN
                return recv.format(*pos, **kw)
            return UNKNOWN
        q = self.qual(fn)
        if q == "chr" and args:
            x = f(args[0], depth)
            return chr(x) if isinstance(x, int) else UNKNOWN
        if q == "str" and args:
            x = f(args[0], depth)
            return x if isinstance(x, str) else (str(x) if isinstance(x, (int, float)) else UNKNOWN)
        if q in ("bytes", "bytearray") and args:
            x = f(args[0], depth)
            if isinstance(x, str) and len(args) > 1:
                return x.encode()
            if isinstance(x, (list, tuple)) and all(isinstance(i, int) for i in x):
                return bytes(x)
            return x if isinstance(x, bytes) else UNKNOWN
        if q == "int" and args:
            x = f(args[0], depth)
            base = f(args[1], depth) if len(args) > 1 else 10
            if isinstance(x, str) and isinstance(base, int) and len(x) < 40:
                return int(x, base)
            return x if isinstance(x, int) else UNKNOWN
        if q == "reversed" and args:
            x = f(args[0], depth)
            return list(x[::-1]) if isinstance(x, (str, list, tuple)) else UNKNOWN
        if q in ("list", "tuple") and args:
            items = self._iterable(args[0], depth)
            return items if items is UNKNOWN or q == "list" else tuple(items)
        return UNKNOWN

    def _iterable(self, node: ast.AST, depth: int) -> Any:
        """The items of a list, a string, `map(chr, [...])` or a one-loop comprehension."""
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)) and len(node.generators) == 1:
            gen = node.generators[0]
            if gen.ifs or not isinstance(gen.target, ast.Name):
                return UNKNOWN
            seq = self.fold(gen.iter, depth)
            if not isinstance(seq, (list, tuple, str, bytes)) or len(seq) > self.max_value:
                return UNKNOWN
            name = gen.target.id
            saved = self.env.get(name, UNKNOWN)
            out = []
            try:
                for item in seq:
                    self.env[name] = item
                    v = self.fold(node.elt, depth)
                    if v is UNKNOWN:
                        return UNKNOWN
                    out.append(v)
            finally:
                self.env[name] = saved
            return out
        if isinstance(node, ast.Call) and self.qual(node.func) == "map" and len(node.args) == 2:
            fn = self.qual(node.args[0])
            seq = self.fold(node.args[1], depth)
            if fn == "chr" and isinstance(seq, (list, tuple)) and all(isinstance(i, int) for i in seq):
                return [chr(i) for i in seq]
            if fn == "str" and isinstance(seq, (list, tuple)):
                return [str(i) for i in seq]
            return UNKNOWN
        value = self.fold(node, depth)
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, str):
            return list(value)
        return UNKNOWN


def _safe_format(fmt: str, style: str = "%") -> bool:
    """No `*` widths and no width over three digits in a conversion: output stays small."""
    if "*" in fmt:
        return False
    i, n = 0, len(fmt)
    while i < n:
        opener = fmt[i] == "%" if style == "%" else fmt[i] == "{"
        i += 1
        if not opener:
            continue
        run = 0
        while i < n and (fmt[i].isdigit() or fmt[i] in "-+ #.<>^=,_:!" or fmt[i].isalpha() and style == "{"):
            if fmt[i] == "}":
                break
            run = run + 1 if fmt[i].isdigit() else 0
            if run > 3:
                return False
            i += 1
    return True
