"""Numbers and small LaTeX expressions, evaluated without sympy, eval or exec.

`evaluate` is a recursive-descent evaluator over a short string (numbers, + - * / ^,
\\frac, \\sqrt, \\pi, degrees, %). Its work is bounded by construction: the input is capped
in length, recursion in depth, and any power whose result would be huge is refused, so
adversarial LaTeX (`10^{10^{10}}`, 500 nested \\frac) returns None quickly instead of hanging.
"""
from __future__ import annotations

import math
import re

MAX_LEN = 160      # longer "answers" are prose, not an expression worth evaluating
MAX_DEPTH = 40
MAX_EXP = 400.0    # refuse a**b beyond this many decimal digits of magnitude

_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+)(?![\d])")
NUMBER_RE = re.compile(r"[-+−]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def strip_thousands(s: str) -> str:
    """'1,234,567' -> '1234567' but '(1, 2)' and '1,5' stay as they are."""
    return _THOUSANDS.sub(lambda m: m.group(1).replace(",", ""), s)


def to_float(s: str) -> float | None:
    """Plain number strings only ('12', '-3.5', '1,000', '1e-3')."""
    s = strip_thousands(s.strip().replace("−", "-").replace(" ", ""))
    if not NUMBER_RE.fullmatch(s):
        return None
    try:
        v = float(s)
    except (ValueError, OverflowError):
        return None
    return v if math.isfinite(v) else None


# ------------------------------------------------------------------ tokenizer

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<cmd>\\[a-zA-Z]+)"
    r"|(?P<op>\*\*|[-+*/^(){}\[\]×÷·−√π%°!,])"
    r"|(?P<word>[a-zA-Z]+)"
    r"|(?P<other>\S))")

_FUNCS = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "ln": math.log, "log": math.log10,
          "exp": math.exp, "arcsin": math.asin, "arccos": math.acos, "arctan": math.atan}
_ARG_COMMANDS = {"\\binom", "\\dbinom", "\\tbinom", "\\frac", "\\sqrt"}   # Parser.command
_DROP_CMDS = {"\\left", "\\right", "\\displaystyle", "\\mathrm", "\\text", "\\,", "\\!", "\\;",
              "\\quad", "\\big", "\\Big"}


class _Fail(Exception):
    pass


def _tokens(s: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(s):
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "cmd":
            if val in ("\\dfrac", "\\tfrac"):
                val = "\\frac"
            if val in ("\\cdot", "\\times"):
                kind, val = "op", "*"
            elif val == "\\div":
                kind, val = "op", "/"
            elif val == "\\circ" or val == "\\degree":
                kind, val = "op", "°"
            elif val == "\\pi":
                kind, val = "op", "π"
            elif val == "\\%":
                kind, val = "op", "%"
            elif val in _DROP_CMDS:
                continue
        elif kind == "op":
            val = {"×": "*", "·": "*", "÷": "/", "−": "-", "**": "^"}.get(val, val)
        elif kind == "other":
            raise _Fail()
        out.append((kind, val))
    return out


class _Parser:
    """expr := term (('+'|'-') term)* ; term := unary (('*'|'/'|implicit) unary)* ;
    unary := ('-'|'+') unary | power ; power := atom ('^' unary)? postfix*"""

    def __init__(self, toks: list[tuple[str, str]], latex_only: bool = False,
                 env: dict[str, float] | None = None):
        self.t, self.i, self.depth = toks, 0, 0
        self.latex_only = latex_only
        self.env = env

    def peek(self) -> tuple[str, str] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, val: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (val is not None and tok[1] != val):
            raise _Fail()
        self.i += 1
        return tok

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Fail()

    def expr(self) -> float:
        self.enter()
        v = self.term()
        while (tok := self.peek()) is not None and tok[1] in ("+", "-"):
            self.take()
            w = self.term()
            v = v + w if tok[1] == "+" else v - w
        self.depth -= 1
        return v

    def term(self) -> float:
        v = self.unary()
        while (tok := self.peek()) is not None:
            if tok[1] in ("*", "/"):
                self.take()
                w = self.unary()
                if tok[1] == "/":
                    if w == 0:
                        raise _Fail()
                    v = v / w
                else:
                    v = v * w
            elif tok[0] in ("cmd", "word") or tok[1] in ("(", "{", "√", "π") or (
                    self.latex_only and tok[0] == "num"):
                v = v * self.unary()       # implicit product: 2\sqrt{3}, 3π (never "2 3")
            else:
                break
        return v

    def unary(self) -> float:
        tok = self.peek()
        if tok is not None and tok[1] in ("-", "+"):
            self.take()
            self.enter()
            v = self.unary()
            self.depth -= 1
            return -v if tok[1] == "-" else v
        return self.power()

    def power(self) -> float:
        base = self.atom()
        tok = self.peek()
        if tok is not None and tok[1] == "^":
            self.take()
            self.enter()
            exp = self.unary()
            self.depth -= 1
            if base != 0 and abs(exp) * math.log10(abs(base) + 1e-300) > MAX_EXP:
                raise _Fail()
            try:
                base = base ** exp
            except (OverflowError, ZeroDivisionError, ValueError):
                raise _Fail() from None
            if isinstance(base, complex):
                raise _Fail()
        while (tok := self.peek()) is not None and tok[1] in ("%", "°", "!"):
            self.take()
            if tok[1] == "%":
                base = base / 100.0
            elif tok[1] == "!":
                if base != int(base) or not 0 <= base <= 170:
                    raise _Fail()
                base = float(math.factorial(int(base)))
            # degrees stay in degrees: gold answers are written in degrees too
        return base

    def group(self) -> float:
        tok = self.take()
        close = {"(": ")", "{": "}", "[": "]"}.get(tok[1])
        if close is None:
            raise _Fail()
        v = self.expr()
        self.take(close)
        return v

    def atom(self) -> float:
        self.enter()
        try:
            tok = self.peek()
            if tok is None:
                raise _Fail()
            kind, val = tok
            if kind == "num":
                self.take()
                return float(val)
            if val in ("(", "{", "["):
                return self.group()
            if val == "π":
                self.take()
                return math.pi
            if val == "√":
                self.take()
                x = self.atom()
                if x < 0:
                    raise _Fail()
                return math.sqrt(x)
            if kind == "cmd" and val in _ARG_COMMANDS:
                return self.command(val)
            name = val.lstrip("\\")
            if name in _FUNCS:
                self.take()
                try:
                    return _FUNCS[name](self.atom())
                except (ValueError, OverflowError):
                    raise _Fail() from None
            if self.env is not None and kind in ("word", "cmd"):
                return self.variable(kind, name)
            raise _Fail()
        finally:
            self.depth -= 1

    def command(self, val: str) -> float:
        """The LaTeX commands that take arguments: \\binom (and d/t forms), \\frac, \\sqrt[n]{x}."""
        self.take()
        if val == "\\frac":
            a, b = self.group(), self.group()
            if b == 0:
                raise _Fail()
            return a / b
        if val == "\\sqrt":
            n = 2.0
            if (p := self.peek()) is not None and p[1] == "[":
                n = self.group()
            x = self.group() if (p := self.peek()) is not None and p[1] == "{" else self.atom()
            if x < 0 or n == 0:
                raise _Fail()
            return x ** (1.0 / n)
        n, k = self.group(), self.group()
        if n != int(n) or k != int(k) or not 0 <= k <= n <= 10_000:
            raise _Fail()
        return float(math.comb(int(n), int(k)))

    def variable(self, kind: str, name: str) -> float:
        # variables: single letters, products of letters ("ab"), Greek commands
        names = [name] if kind == "cmd" else list(name)
        if not all(n in self.env for n in names):
            raise _Fail()
        self.take()
        v = 1.0
        for n in names:
            v *= self.env[n]
        return v


_MIXED = re.compile(r"\s*([-+]?)(\d+)\s+(\d+)\s*/\s*(\d+)\s*")


def evaluate(s: str, latex_only: bool = False, env: dict[str, float] | None = None) -> float | None:
    """Value of a short numeric expression, or None when it is not one (or is too big).
    latex_only mimics latex2sympy for the MATH-V compat scorer: ':' divides, unicode π/√ and
    degree signs are not understood, and juxtaposed numbers multiply."""
    if not s or len(s) > MAX_LEN:
        return None
    if latex_only:
        if re.search(r"[π√°]|\\degree|\\circ", s):
            return None
        s = s.replace(":", "/")
    m = _MIXED.fullmatch(s)   # a mixed number "2 1/2" is 2.5, not 2*1/2
    if m and int(m.group(4)) != 0 and not latex_only:
        v = int(m.group(2)) + int(m.group(3)) / int(m.group(4))
        return -v if m.group(1) == "-" else v
    s = strip_thousands(s).replace("$", "").replace("\\!", "")
    try:
        toks = _tokens(s)
        if not toks:
            return None
        p = _Parser(toks, latex_only, env)
        v = p.expr()
        if p.i != len(toks):
            return None
    except (_Fail, RecursionError, OverflowError, ValueError, ZeroDivisionError):
        return None
    return v if isinstance(v, float) and math.isfinite(v) else None


_VAR = re.compile(r"\\(?:alpha|beta|gamma|theta|phi|lambda|mu|sigma|omega)\b|(?<![\\a-zA-Z])[a-zA-Z]+")
_POINTS = [0.5772, 1.6180, 2.7183, 0.3679]   # fixed, irrational-looking: deterministic results


def same_function(a: str, b: str) -> bool | None:
    """Numerical identity test for expressions in variables (a, x, \\theta, ...): equal at
    four fixed points -> True, differ at one -> False, None when either side cannot be
    evaluated (then math-verify decides). Cheap, bounded and signal-free."""
    names = set()
    for src in (a, b):
        for m in _VAR.finditer(src):
            tok = m.group(0)
            if tok.startswith("\\"):
                names.add(tok[1:])
            elif tok.lower() not in _FUNCS and tok not in ("frac", "sqrt", "pi", "cdot", "times"):
                names.update(tok)
    if not names or len(names) > 6:
        return None
    for k, x in enumerate(_POINTS):
        env = {n: x + 0.37 * i + 0.11 * k for i, n in enumerate(sorted(names))}
        va, vb = evaluate(a, env=env), evaluate(b, env=env)
        if va is None or vb is None:
            return None
        if not close(va, vb, 1e-8):
            return False
    return True


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def decimals(s: str) -> int:
    """Decimal places written in a plain number string ('3.14' -> 2)."""
    m = re.search(r"\.(\d+)", s)
    return len(m.group(1)) if m else 0
