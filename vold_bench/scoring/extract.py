"""Answer extraction: from a raw response to the SHORT answer, before any grading.

Everything here is string work with linear-time regexes; no symbolic maths. The order of
evidence is the same for every benchmark: reasoning is stripped, then the LAST explicit
anchor (\\boxed{}, "Answer:", "the answer is", ...) is read; weaker fallbacks (a bare
label, a label at the very start, option text) only apply when no anchor yields anything.
"""
from __future__ import annotations

import re

import vold_bench.scoring.commit as commit
from vold_bench.scoring.grade import number_value
from vold_bench.scoring.options import clean, contains_word, label_tokens, norm_text, option_match

TAIL = 20_000   # answers sit at the end; a 1 MB response is scanned on its tail only
MAX_SEG = 400    # an answer segment longer than this is prose, not an answer
MAX_ANCHORS = 12  # look back over the last few anchors only
NEAR = 3_000     # first window searched for anchors

_THINK_OPEN = re.compile(r"<think>", re.I)
_THINK_CLOSE = re.compile(r"</think>", re.I)


def strip_reasoning(text: str) -> tuple[str, bool]:
    """(text after the reasoning block, truncated?). An opened but never closed block means
    generation stopped mid-thought: nothing after it is an answer."""
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        return text[closes[-1].end():], False
    if _THINK_OPEN.search(text):
        return "", True
    return text, False


# ------------------------------------------------------------------ \boxed{}

_BOX = re.compile(r"\\(?:boxed|fbox)\s*")
_BRACE = re.compile(r"[{}]")


def boxed_all(text: str) -> list[tuple[int, str]]:
    """Every \\boxed{...} (balanced braces) as (position, content), in order. One pass over
    the text matches all braces, so 3,000 nested boxes cost no more than one."""
    starts = [m for m in _BOX.finditer(text)]
    if not starts:
        return []
    close: dict[int, int] = {}
    stack: list[int] = []
    for b in _BRACE.finditer(text, starts[0].end()):
        i = b.start()
        if text[i] == "{":
            stack.append(i)
        elif stack:
            close[stack.pop()] = i
    out = []
    for m in starts:
        i = m.end()
        if i < len(text) and text[i] == "{":
            j = close.get(i, len(text))        # unbalanced: take the rest
            out.append((m.start(), text[i + 1: j][:MAX_SEG]))
        else:   # "\boxed 5"
            tok = re.match(r"[^\s$.,;]+", text[i: i + 100])
            if tok:
                out.append((m.start(), tok.group(0)))
    return out


# ------------------------------------------------------------------ anchors

# "Answer:", "the (final|correct) answer is", "answer would be", "correct option is", 答案是 ...
_ANCHOR = re.compile(
    r"(?:\b(?:final|correct|right|best|my|the)?\s*(?:answer|option|choice)s?\s*"
    r"(?:\((?:s)\)\s*)?"
    r"(?:is|are|would\s+be|should\s+be|will\s+be|must\s+be|=)\s*(?:\*\*)?\s*[:：]?"
    r"|\banswer\s*(?:\*\*)?\s*[:：]"
    # "the answer to the question is", "the only choice that must equal 180 is"
    # (no label in between: "option A is more aerodynamic than D" names A, not what follows)
    r"|\b(?:answer|option|choice)\b(?:(?!\b[A-Z]\b)[^.\n:]){0,40}?\b(?:is|would\s+be)\s*[:：]?"
    # "the conclusion that can be drawn from the two statements is that some women are men"
    r"|\bconclusion\b(?:(?!\b[A-Z]\b)[^.\n:]){0,60}?\bis\s+that\b"
    r"|\bfinal\s+answer\b\s*(?:\*\*)?\s*[:：]?"
    r"|(?:答案|选项|故选|应选)\s*(?:是|为|应该是)?\s*[:：]?)",
    re.I)


# The label before its anchor: "Situation A is the correct answer", "(C) is correct".
_LABEL_FIRST = re.compile(r"(?:\(([A-Z])\)|(?<![A-Za-z'’\\\-–])([A-Z])\b)\)?\s+(?:is|would\s+be)\s+"
                          r"(?:the\s+)?(?:correct|(?:right|best)\s+(?:answer|option|choice))\b")


def anchors(text: str) -> list[tuple[int, str, str]]:
    """(position, kind, segment after it) for every anchor, boxed ones included, in order."""
    out = [(p, "boxed", c) for p, c in boxed_all(text)]
    for m in _ANCHOR.finditer(text):
        if re.search(r"\bother\s*$", text[max(0, m.start() - 8): m.start()], re.I):
            continue   # "The other choices are: (B) ..." lists what was not chosen
        out.append((m.start(), "anchor", text[m.end(): m.end() + 300]))
    for m in _LABEL_FIRST.finditer(text):
        out.append((m.start(), "label_first", f"({m.group(1) or m.group(2)})"))
    out.sort(key=lambda x: x[0])
    return out[-MAX_ANCHORS:]


def first_clause(seg: str) -> str:
    """The answer part of an anchor segment: up to the end of the line or sentence."""
    seg = seg.lstrip(" \t:*#\n")
    seg = seg.split("\n", 1)[0]
    m = re.search(r"(?<!\d)\.(?:\s|$)|;|\s+(?:because|since|as|which|so|but)\s", seg)
    return seg[: m.start()] if m else seg


# ------------------------------------------------------------------ multiple choice

_JOIN = re.compile(r"\)?\s*(?:,|\band\b|\bor\b|&|/)\s*\(?|\)\s*\(", re.I)


def _joined(clause: str, toks: list[tuple[int, str]], labels: list[str]) -> list[str]:
    """Labels listed together: "A, C", "A and C", "(A)(D)". A bare letter after "(A) " is
    read as option text, not as a second label."""
    got = [toks[0][1]]
    for (p0, _), (p1, l1) in zip(toks, toks[1:]):
        if _JOIN.fullmatch(clause[p0 + 1: p1]) is None:
            break
        got.append(l1)
    return sorted(set(got), key=labels.index)


def _names_options(clause: str, labels: list[str], options: list[str]) -> int:
    """How many different options the clause names by a text that holds a label token
    ("Solution A", "Set B"): those letters are parts of names, not chosen labels."""
    low = norm_text(clause)
    named = {lab for o, lab in zip(options, labels)
             if len(o.split()) >= 2 and label_tokens(o, labels) and contains_word(low, norm_text(o))}
    return len(named)


def _leading_word_option(clause: str, labels: list[str], options: list[str]) -> str | None:
    """The one-word option ("No", "True", "Left") the clause opens with, followed by a
    punctuation mark or nothing: the answer is said before any label is mentioned."""
    low = clause.lower()
    for o, lab in zip(options, labels):
        w = norm_text(o)
        if len(w) >= 2 and w.isalpha() and re.match(rf"{re.escape(w)}(?:\s*[,.;:!]|\s*$)", low):
            return lab
    return None


def choice_from_segment(seg: str, labels: list[str], options: list[str],
                        multi: bool) -> list[str]:
    """Labels stated by one anchor segment ([] if none): a label at its start, else an
    option stated exactly, else labels anywhere in it, else an option's text in it."""
    raw = first_clause(seg)
    clause = clean(raw)
    if not clause:
        return []
    num = re.match(r"1[.,)]\s*(?=\(?[A-Za-z]\)?(?:[.),]|\s*$))", clause)
    if num and "1" not in labels:   # "answer : 1, d", "1. D": the first item of a numbering
        clause = clause[num.end():]
    toks = label_tokens(clause, labels)
    if not toks:   # a lowercase label standing alone: "answer : c", "(b)."
        m = re.match(r"^\(?([a-z])\)?(?:[.)]|\s*$)", clause)
        if m and m.group(1).upper() in labels:
            return [m.group(1).upper()]
    starts = bool(toks) and toks[0][0] <= 2
    if len(toks) >= 2 and not multi and _names_options(clause, labels, options) >= 2:
        return []   # "Solution A and Solution B have the same volume": options named in passing
    if toks and not starts:
        lab = _leading_word_option(clause, labels, options)
        if lab:   # "No, the bar for A is shorter": the option said first, a letter named later
            return [lab]
    if starts:
        # "A, C" / "A and C" / "(A)(D)": labels joined by list separators only. For a single
        # choice item more than one means the response did not commit to one answer.
        return _joined(clause, toks, labels)
    lab = option_match(raw, options, labels, how="exact" if toks else "start")
    if lab is not None:
        return [lab]
    glued = re.fullmatch(r"\(?([A-Z])\)?\s*(\S{1,30})", clause)   # "E2": a label glued to its own value
    if glued and glued.group(1) in labels and \
            option_match(glued.group(2), options, labels, how="exact") == glued.group(1):
        return [glued.group(1)]
    run = re.match(r"^\(?([A-Z]{2,4})\)?(?![A-Za-z])", clause)   # "Answer: AC" = A and C
    if run and all(c in labels for c in run.group(1)) and len(set(run.group(1))) == len(run.group(1)):
        return sorted(set(run.group(1)), key=labels.index)
    if toks:
        return _joined(clause, toks, labels) if multi else [toks[0][1]]
    lab = option_match(raw, options, labels, how="anywhere")
    return [lab] if lab is not None else []


# Closing pleasantries and end-of-sequence tokens are not part of the answer.
_BOILER = re.compile(r"hope (?:this|that|it) helps|let me know|any (?:other|more|further) questions|"
                     r"do you (?:want|have)|feel free|happy to help", re.I)


_EOS = re.compile(r"</s>|<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|<eos>|<\|end\|>")


def strip_eos(text: str) -> str:
    return _EOS.sub("", text)


def final_statement(text: str) -> str:
    """The last sentence of the response that says something: trailing pleasantries, EOS
    tokens and code fences are skipped."""
    lines = [ln.strip() for ln in text.strip().splitlines()]
    lines = [ln for ln in lines if ln and not _BOILER.search(ln) and not ln.startswith("```")]
    # a list item ("3. Set A", "- B") is not a conclusion
    if not lines or re.match(r"^(?:\d+[.)]|[-*•‣⑤])\s", lines[-1]):
        return ""
    last = lines[-1][-2000:]   # a statement, not a wall of text
    sents = [x for x in re.split(r"(?<=[.!?。])\s+", last) if x.strip() and not _BOILER.search(x)]
    return sents[-1] if sents else last


# ------------------------------------------------------------------ free form

_NUM = re.compile(r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+−]?\.\d+")
# "There are 3 objects ..." / "is about 2.5" / "= 16": a number right after a copula
_STATED = re.compile(r"(?:\b(?:is|are|was|were|be|equals?|to)\b|=|:|≈)\s*(?:about|approximately|around|"
                     r"roughly|only|exactly|just|nearly|\*\*|\$)?\s*(" + _NUM.pattern + r")", re.I)


def final_number(sentence: str) -> str | None:
    """The number a sentence states as its result: the last one standing right after a
    copula or '=' ("There are 3 objects preferred by more than 7 people" -> 3), else the
    last number in it."""
    stated = _STATED.findall(sentence)
    if stated:
        return stated[-1]
    nums = _NUM.findall(sentence)
    return nums[-1] if nums else None


_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
          "fifteen sixteen seventeen eighteen nineteen twenty").split()
# "There are two models": a number word after a copula ("one of the ..." is no count)
_STATED_WORD = re.compile(r"\b(?:is|are|was|were|be|equals?|has|have)\s+(?:only\s+|exactly\s+|just\s+)?"
                          r"(" + "|".join(_WORDS) + r")\b(?!\s+of\b)(?!-)", re.I)
_WORD_CLAUSE = re.compile(r"(?:only\s+|exactly\s+)?(" + "|".join(_WORDS) + r")\b(?!\s+of\b)(?!-)", re.I)
# "In 2019, the value was 45": a number in an opening phrase sets the scene, it is no result
_SCENE = re.compile(r"(?:in|at|for|on|after|by|during|since|before|from)\s+[^,\n]{0,30}?\d[^,\n]{0,20},\s*", re.I)
# "(We used 6 × 4.)", "This is because ...": a sentence explaining the result, not stating it
_EXPLAINS = re.compile(r"\s*\(?(?:this\s+is\s+because|note\s+that|we\s+used)\b", re.I)


def stated_number(sentence: str) -> str | None:
    """final_number, and else a number word after a copula ("there are two models" -> 2)."""
    num = _STATED.findall(sentence)
    if num:
        return num[-1]
    word = _STATED_WORD.findall(sentence)
    if word:
        return str(_WORDS.index(word[-1].lower()))
    return final_number(sentence)


def _numeric_clause(clause: str) -> str | None:
    """The number an anchor clause states: the clause itself, else the number after an
    opening scene ("In 2019, the value was 45"), else the first ("1982 with a total of
    931,441" -> 1982), else a leading number word ("two.")."""
    if number_value(clause) is not None:
        return clause
    scene = _SCENE.match(clause)
    if scene and _NUM.search(clause, scene.end()):
        clause = clause[scene.end():]
        return final_number(clause)
    if _NUM.search(clause):
        return _NUM.findall(clause)[0]
    m = _WORD_CLAUSE.match(clause)
    return str(_WORDS.index(m.group(1).lower())) if m else None


def _last_number(text: str) -> tuple[str | None, str]:
    """The numeric fallback: the number the final statement states; a final statement that
    declines to answer ("... so it cannot be determined") gives none."""
    last = final_statement(text)
    if last and _EXPLAINS.match(last):   # step back over a closing explanation
        head = text.rstrip()[: text.rstrip().rfind(last)]
        last = final_statement(head) or last
    if last and (commit.ABSTAINS.search(last) or commit.NONE_OF.search(last)):
        return None, "abstains"
    num = stated_number(last) if last else None
    if num is None:
        nums = _NUM.findall(text)
        num = nums[-1] if nums else None
    return (num, "last_number") if num is not None else (None, "none")


def extract_free(text: str, numeric: bool, followups: bool = True) -> tuple[str | None, str]:
    """(short answer, rule) for a free-form response. For numeric answers the number stated
    by the final sentence is the fallback (MathVista's and MATH-V's own rules also fall back
    on the response's numbers)."""
    text = strip_eos(text[-TAIL:]).replace("\u200b", "")   # zero-width spaces hide a leading label
    cut = commit.followup_cut(text) if followups else None
    if cut is not None:   # "The answer is 5.\n\nQuestion: <invented> ... Answer: 3"
        short, rule = extract_free(text[:cut], numeric, followups=False)
        if short is not None and rule in ("boxed", "anchor", "label_first"):
            return short, rule + "+followup_cut"
    boxes = boxed_all(text)
    if boxes:
        return boxes[-1][1].strip(), "boxed"
    for _, kind, seg in reversed(anchors(text[-NEAR:]) or anchors(text)):
        clause = first_clause(seg).strip()
        if clause and numeric:
            clause = _numeric_clause(clause)
        if clause:
            return clause, kind
    stripped = text.strip()
    if stripped and len(stripped) <= 60 and "\n" not in stripped and (not numeric or _NUM.fullmatch(
            re.sub(r"[^\d.,+−-]", "", stripped) or "x")):
        return stripped, "bare"
    if numeric:
        # "... highest in **2019**, with 25.8%. In 2020 it decreased to 15.4%.": the one number
        # the response puts in bold is its answer, not the last detail it adds
        bold = {m.group(1) for m in re.finditer(r"\*\*\s*(" + _NUM.pattern + r")\s*\*\*", text)}
        if len(bold) == 1:
            return bold.pop(), "bold"
        return _last_number(text)
    return None, "none"
