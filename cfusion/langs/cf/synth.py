"""Synthetic (request, rule) pairs for the conditional-formatting pack: a small grammar over every rule the
interpreter runs, with random values, each rule described by a request composed from independent phrasing choices,
to widen the ~640 templated train pairs towards human phrasing and the rule functions they barely hold."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from cfusion.langs.cf import grammar
from cfusion.langs.cf.interpret import Call, CFError, evaluable, parse


def _p(s: str) -> list[str]:
    return [t.strip() for t in s.split("|")]


# ---- values ----

_ROUND = [10, 20, 25, 50, 75, 100, 150, 200, 250, 300, 500, 750, 1000, 1500, 2000, 2500, 5000, 10000, 20000, 25000]
_ROUND += [50000, 100000, 250000, 500000, 1000000]
# Text operands: everyday values of many shapes, and values that occur in the CF train and pre-training rules.
_TEXTS = _p(
    "Done | Pending | In Progress | Out of Stock | On Hold | Cancelled | Overdue | Approved | Rejected | Complete | "
    "Open | Closed | Shipped | Delivered | Draft | Paid | Unpaid | Late | Active | Inactive | Yes | No | N/A | TBD | "
    "Failed | Pass | Fail | High | Medium | Low | Urgent | Not Started | Waiting for Customer | Back Order | "
    "yes | no | pending | error | test | tbd | ok | unknown | refund | draft | sample | lunch | remote | overtime | "
    "vip | urgent | missing | delayed | returned | discount | free | invoice | "
    "INV | SKU | PO | X | Y | M | F | ABC | EU | USD | GBP | A12 | Q1 | FY23 | XL | 2024 | 001 | A+ | VIP | "
    "London | Paris | New York | Zürich | café | São Paulo | Köln | München | Montréal | José | Smith | Garcia | "
    "Müller | Nguyen | 東京 | 北京 | Москва | Ελλάδα | "
    "Endangered | Partially met | No Change | Unknown | Non Funded | On track | Worse | Check | Updated | Closed | "
    "Testing | Incomplete | High risk | Lapsed | Negotiating | Omitted | Required | Subtotal | Exclude | "
    "Need more info | Highest | Bottom | Late | Cardiology | Surgery | Marketing | Facebook | Lithuania | "
    "Early Progress | Not Compliant | Requires Improvement | Muy bueno | Bueno | onvolledig | Selection | amber | "
    "non-compliant | no errors | cancelled | proposed | Business Performance | Issued Credit Transfers | Alert | "
    "Current assets | Long term assets | Normal Function | Sunday | MONDAY | Hispanic | Government | Expense | "
    "Concussion | Digital Multimeter | Direct Plan-G | APO-ABIRATERONE | ITSD | WIAA | TBL NOB | Form L | chime | "
    "Level 2 | HR Pending | Opening | Night | Nil | Tumor | Intestinal | Enterprise | Imports | Mexico | low qty | "
    "unchanged | BUONO | SUFFICIENTE | ELEVATO | ZYTIGA | 情報は正しく入力されています | 適 | 日 | 最低值 | "
    "RA-1 | RP2 | Sev2 | 4XL | U.S.A. | Y / N | 0 Cases | Dark orange | End of Life"
)
_PREFIXES = _p(
    "INV | INV- | SKU- | PO- | A | B | Dr. | Mr | Ms | http | www. | 978 | UK | US- | TEMP | ERR | Q | 2023 | 0 | "
    "#| @ | PRJ- | CUST | Z | North | New | St. | Mc | Über | 東"
)
_SUFFIXES = _p(
    "-XL | -S | .pdf | .xlsx | @gmail.com | @example.org | Ltd | Inc | Corp | GmbH | _old | _v2 | s | ing | ed | "
    "-2024 | /2023 | .com | .co.uk | 00 | x | Jr | PLC | -EU | kg | ville | stadt | 市"
)


def _plain_text(t: str) -> bool:
    """Text the rule can carry unquoted and a request can quote back: no commas, quotes, parentheses, edge spaces."""
    return bool(t) and t == t.strip() and not re.search(r"[,()\"`]", t) and t[0] != "'" and t[-1] != "'"


def _dec(x: float, d: int) -> str:
    s = f"{x:.{d}f}".rstrip("0").rstrip(".") if d else str(round(x))
    return "0" if s in ("-0", "") else s


def _number(rng: random.Random, percent_ok: bool = True) -> str:
    """A number as a rule writes it, of one of many shapes: small, round, large, decimal, negative, percent, year."""
    r = rng.random()
    if r < 0.12:
        return str(rng.randint(0, 10))
    if r < 0.27:
        return str(rng.randint(11, 99))
    if r < 0.45:
        return str(rng.choice(_ROUND))
    if r < 0.60:
        return str(int(10 ** rng.uniform(2, 6.3)))
    if r < 0.74:
        return _dec(rng.uniform(0, rng.choice([1, 10, 100, 1000])), rng.choice([1, 1, 2, 2, 3]))
    if r < 0.83:
        return "-" + rng.choice([str(rng.randint(1, 100)), _dec(rng.uniform(0.1, 20), 1), str(rng.choice(_ROUND))])
    if r < 0.92 and percent_ok:
        return f"{rng.choice([5, 10, 15, 20, 25, 50, 75, 80, 90, 95, 100, rng.randint(1, 99)])}%"
    return str(rng.randint(1990, 2030))


def _range(rng: random.Random) -> tuple[str, str]:
    """Two bounds (low, high) of one shape."""
    r = rng.random()
    if r < 0.3:
        a = rng.randint(0, 60)
        return str(a), str(a + rng.randint(1, 50))
    if r < 0.5:
        a, b = sorted(rng.sample(_ROUND, 2))
        return str(a), str(b)
    if r < 0.62:
        a = int(10 ** rng.uniform(2, 5.5))
        return str(a), str(a + int(10 ** rng.uniform(1, 5)))
    if r < 0.74:
        d = rng.choice([1, 2])
        a = rng.uniform(0, 10)
        return _dec(a, d), _dec(a + rng.uniform(0.1, 5), d)
    if r < 0.84:
        return str(-rng.randint(1, 50)), str(rng.randint(0, 50))
    if r < 0.93:
        a = rng.choice([0, 5, 10, 20, 25, 40, 50, 60, 70, 80])
        return f"{a}%", f"{min(100, a + rng.choice([5, 10, 15, 20, 30]))}%"
    a = rng.randint(1990, 2020)
    return str(a), str(a + rng.randint(1, 10))


_CURRENCIES = ["$", "$", "£", "€", "USD ", "EUR "]
_UNITS = [
    " " + u
    for u in _p(
        "kg | g | lbs | km | miles | m | cm | days | hours | hrs | mins | minutes | seconds | ms | years | months | "
        "weeks | °C | °F | points | pts | units | items | pcs | GB | MB | calls | visits | people"
    )
]


def _unit(rng: random.Random) -> str:
    """A currency written before a number ("$") or a unit after it (" kg")."""
    return rng.choice(_CURRENCIES) if rng.random() < 0.4 else rng.choice(_UNITS)


def _value(x: str) -> float:
    return float(x.rstrip("%")) / (100 if x.endswith("%") else 1)


def _text(rng: random.Random, fam: str = "") -> str:
    if fam == "TextStartsWith" and rng.random() < 0.5:
        return rng.choice(_PREFIXES)
    if fam == "TextEndsWith" and rng.random() < 0.5:
        return rng.choice(_SUFFIXES)
    return rng.choice(_TEXTS)


# ---- what each rule function is called: templates by the slot they fill in a request ----
# post: right after a noun ("cells greater than 5"), no finite verb; pred: after is/are ("that are blank");
# verb: after that/which, with agreement marks ({s}, {are}, {dont}, ...); pre: before a noun ("blank cells");
# np: a whole noun phrase around the noun {n}; bare: the whole request body ("> 500"). {x}, {y}: the values.

_F: dict[str, dict[str, list[str]]] = {
    "GreaterThan": {
        "post": _p(
            "greater than {x} | more than {x} | above {x} | over {x} | higher than {x} | bigger than {x} | "
            "larger than {x} | exceeding {x} | > {x} | >{x} | in excess of {x} | beyond {x} | strictly greater "
            "than {x} | with a value greater than {x} | with values above {x} | over the {x} mark | heavier than {x} | "
            "longer than {x} | older than {x} | later than {x} | taller than {x} | costlier than {x}"
        ),
        "pred": _p(
            "greater than {x} | more than {x} | above {x} | over {x} | higher than {x} | bigger than {x} | "
            "larger than {x} | > {x} | strictly above {x} | in excess of {x}"
        ),
        "verb": _p(
            "exceed{s} {x} | {are} greater than {x} | go{es} above {x} | {are} over {x} | {have} a value above {x} | "
            "{are} bigger than {x} | {are} more than {x} | top{s} {x} | {are} heavier than {x} | "
            "{are} longer than {x} | {are} older than {x} | {are} later than {x}"
        ),
        "bare": _p("> {x} | >{x} | over {x} | above {x} | more than {x} | greater than {x}"),
    },
    "LessThan": {
        "post": _p(
            "less than {x} | under {x} | below {x} | lower than {x} | smaller than {x} | fewer than {x} | < {x} | "
            "<{x} | beneath {x} | with a value below {x} | with values less than {x} | strictly less than {x} | "
            "falling below {x} | lighter than {x} | shorter than {x} | younger than {x} | cheaper than {x} | "
            "earlier than {x}"
        ),
        "pred": _p(
            "less than {x} | under {x} | below {x} | lower than {x} | smaller than {x} | < {x} | strictly below {x}"
        ),
        "verb": _p(
            "{are} less than {x} | fall{s} below {x} | drop{s} under {x} | {dont} reach {x} | {are} under {x} | "
            "{are} lower than {x} | {have} a value below {x} | {are} lighter than {x} | {are} shorter than {x} | "
            "{are} younger than {x} | {are} cheaper than {x}"
        ),
        "bare": _p("< {x} | <{x} | under {x} | below {x} | less than {x}"),
    },
    "GreaterThanEqual": {
        "post": _p(
            "at least {x} | {x} or more | {x} or higher | {x} or above | {x} or greater | no less than {x} | "
            "not less than {x} | greater than or equal to {x} | more than or equal to {x} | >= {x} | >={x} | ≥ {x} | "
            "{x} and up | {x} and above | equal to or greater than {x} | of {x} or more | with a value of at least {x}"
        ),
        "pred": _p(
            "at least {x} | {x} or more | {x} or higher | {x} or above | no less than {x} | greater than or equal "
            "to {x} | >= {x} | equal to or above {x}"
        ),
        "verb": _p(
            "reach{es} {x} | {are} at least {x} | meet{s} or exceed{s} {x} | {are} {x} or more | hit{s} {x} or more | "
            "{do} not fall below {x} | {are} no lower than {x}"
        ),
        "bare": _p(">= {x} | >={x} | ≥{x} | {x}+ | {x} or more | at least {x}"),
    },
    "LessThanEqual": {
        "post": _p(
            "at most {x} | {x} or less | {x} or lower | {x} or below | {x} or fewer | no more than {x} | "
            "not more than {x} | no greater than {x} | less than or equal to {x} | <= {x} | <={x} | ≤ {x} | "
            "up to {x} | {x} and under | {x} and below | equal to or less than {x} | with a value of at most {x}"
        ),
        "pred": _p(
            "at most {x} | {x} or less | {x} or lower | {x} or below | no more than {x} | less than or equal to {x} | "
            "<= {x} | equal to or below {x}"
        ),
        "verb": _p(
            "{dont} exceed {x} | {are} at most {x} | {are} {x} or less | {do} not go above {x} | "
            "{are} no higher than {x} | stay{s} at or below {x}"
        ),
        "bare": _p("<= {x} | <={x} | ≤{x} | {x} or less | at most {x} | up to {x}"),
    },
    "Between": {
        "post": _p(
            "between {x} and {y} | from {x} to {y} | in the range {x} to {y} | within {x} and {y} | ranging from {x} "
            "to {y} | between {x} and {y} inclusive | between {x} and {y} (inclusive) | {x} to {y} | from {x} up to "
            "{y} | no less than {x} and no more than {y} | at least {x} and at most {y} | {x} through {y} | in "
            "between {x} and {y} | within the range of {x} to {y} | with values between {x} and {y} | >= {x} and "
            "<= {y} | between {x} & {y} | in the range {x}-{y} | {x}-{y} | {x}–{y} | in the {x}-{y} range"
        ),
        "pred": _p(
            "between {x} and {y} | from {x} to {y} | within {x} and {y} | in the range {x} to {y} | "
            "in the range {x}-{y} | between {x} and {y} inclusive"
        ),
        "verb": _p(
            "fall{s} between {x} and {y} | lie{s} between {x} and {y} | {are} within {x} to {y} | "
            "{are} in the {x}-{y} range | sit{s} between {x} and {y} | {are} between {x} and {y}"
        ),
        "bare": _p("{x}-{y} | {x} to {y} | between {x} and {y} | from {x} to {y} | >={x} and <={y}"),
    },
    "NotBetween": {
        "post": _p(
            "not between {x} and {y} | outside {x} to {y} | outside the range {x}-{y} | outside {x}-{y} | "
            "outside of {x}–{y} | not in the range {x} to {y} | outside the {x} to {y} band | not within {x} and {y} | "
            "anywhere outside {x}-{y} | outside the range {x} to {y} | below {x} or above {y} | less than {x} or "
            "greater than {y} | under {x} or over {y} | < {x} or > {y}"
        ),
        "pred": _p(
            "not between {x} and {y} | outside {x}-{y} | outside the range {x} to {y} | out of the {x}-{y} range | "
            "not within {x} and {y} | below {x} or above {y}"
        ),
        "verb": _p(
            "fall{s} outside {x}-{y} | {are} not between {x} and {y} | {dont} fall between {x} and {y} | "
            "lie{s} outside the range {x} to {y} | {are} out of the {x}-{y} range | {do} not lie between {x} and {y}"
        ),
        "bare": _p("not between {x} and {y} | outside {x}-{y} | outside {x} to {y} | <{x} or >{y}"),
    },
    "Equals": {
        "post": _p(
            "equal to {x} | = {x} | ={x} | of exactly {x} | exactly equal to {x} | with a value of {x} | valued at "
            "{x} | with the value {x} | matching {x} | the same as {x} | of {x} | == {x} | equalling {x}"
        ),
        "pred": _p("equal to {x} | exactly {x} | {x} | = {x} | the same as {x} | exactly equal to {x}"),
        "verb": _p(
            "equal{s} {x} | {are} exactly {x} | {are} {x} | match{es} {x} | {have} the value {x} | {are} equal to {x}"
        ),
        "pre": _p("{x}"),
        "bare": _p("= {x} | ={x} | exactly {x} | equals {x} | == {x}"),
    },
    "NotEquals": {
        "post": _p(
            "not equal to {x} | other than {x} | != {x} | <> {x} | different from {x} | not equalling {x} | "
            "except {x} | with a value other than {x} | ≠ {x} | apart from {x}"
        ),
        "pred": _p(
            "not equal to {x} | not {x} | anything but {x} | different from {x} | other than {x} | != {x} | "
            "anything other than {x}"
        ),
        "verb": _p(
            "{dont} equal {x} | {are} not {x} | differ{s} from {x} | {are} anything but {x} | {do} not equal {x} | "
            "{are} not equal to {x} | {arent} {x}"
        ),
        "bare": _p("!= {x} | <> {x} | not {x} | ≠ {x} | everything except {x} | anything but {x} | not equal to {x}"),
    },
    "TextEquals": {
        "post": _p(
            "equal to {x} | reading {x} | saying {x} | = {x} | matching {x} | matching {x} exactly | labelled {x} | "
            "labeled {x} | marked {x} | set to {x} | with the text {x} | with the value {x} | with {x} as the value | "
            "showing {x} | of {x} | equal to the text {x} | exactly matching {x} | that say {x} | marked as {x}"
        ),
        "pred": _p("{x} | equal to {x} | exactly {x} | set to {x} | marked {x} | marked as {x} | labelled {x} | = {x}"),
        "verb": _p(
            "say{s} {x} | read{s} {x} | equal{s} {x} | match{es} {x} exactly | {are} {x} | {have} the value {x} | "
            "{are} marked {x} | show{s} {x} | {are} set to {x} | {have} the text {x}"
        ),
        "pre": _p("{x}"),
        "bare": _p("= {x} | {x} only | text = {x} | exactly {x}"),
    },
    "TextContains": {
        "post": _p(
            "containing {x} | with {x} in them | with {x} in it | including {x} | mentioning {x} | having {x} | "
            "with {x} anywhere in the text | with {x} somewhere in them | matching *{x}* | like *{x}* | containing "
            "the text {x} | containing the string {x} | with {x} | with the word {x} in them | that has {x} in it"
        ),
        "verb": _p(
            "contain{s} {x} | include{s} {x} | mention{s} {x} | {have} {x} in {them} | {have} {x} somewhere in the "
            "text | {are} like *{x}*"
        ),
        "bare": _p("*{x}* | contains {x} | includes {x} | has {x} | containing {x} | text contains {x}"),
    },
    "TextStartsWith": {
        "post": _p(
            "starting with {x} | beginning with {x} | with the prefix {x} | prefixed with {x} | prefixed by {x} | "
            "whose text starts with {x} | matching {x}* | like {x}* | with {x} at the start | with a leading {x}"
        ),
        "verb": _p(
            "start{s} with {x} | begin{s} with {x} | open{s} with {x} | {have} {x} at the start | {have} the prefix {x}"
        ),
        "bare": _p("{x}* | starts with {x} | begins with {x} | starting with {x}"),
    },
    "TextEndsWith": {
        "post": _p(
            "ending with {x} | ending in {x} | with the suffix {x} | suffixed with {x} | whose text ends with {x} | "
            "matching *{x} | like *{x} | finishing with {x} | with {x} at the end"
        ),
        "verb": _p(
            "end{s} with {x} | end{s} in {x} | finish{es} with {x} | {have} {x} at the end | {have} the suffix {x}"
        ),
        "bare": _p("*{x} | ends with {x} | ends in {x} | ending in {x}"),
    },
    "Blanks": {
        "pre": _p("blank | empty | unfilled | missing | null"),
        "post": _p(
            "with no value | with nothing in them | left blank | left empty | with no data | without any value | "
            "with no entry | without a value"
        ),
        "pred": _p("blank | empty | missing | left blank | left empty | not filled in | null"),
        "verb": _p("{are} blank | {have} no value | {are} empty | {have} nothing in {them} | {are} missing a value"),
        "bare": _p("blanks | empty cells | blank cells | the blanks | missing values | empties"),
    },
    "Errors": {
        "pre": _p("error | erroring | #N/A and other error"),
        "post": _p(
            "with errors | with an error | containing errors | showing an error | with error values | with formula "
            "errors | showing #N/A or #DIV/0! | returning an error | with #REF! or other errors | in error"
        ),
        "pred": _p("in error | erroring | error values"),
        "verb": _p(
            "return{s} an error | show{s} an error | contain{s} an error | {have} an error | evaluate{s} to an error"
        ),
        "bare": _p("errors | error values | #N/A and other errors | formula errors | all errors | #DIV/0! errors"),
    },
    "Duplicate": {
        "pre": _p("duplicate | duplicated | repeated | repeating"),
        "post": _p(
            "occurring more than once | appearing more than once | with duplicates | seen more than once | "
            "occurring multiple times | with a duplicate elsewhere | appearing twice or more | listed more than once"
        ),
        "pred": _p("duplicated | repeated | not unique | duplicates"),
        "verb": _p(
            "appear{s} more than once | repeat{s} | occur{s} multiple times | {have} a duplicate | show{s} up more "
            "than once | {are} duplicated | {are} repeated | {are} not unique"
        ),
        "bare": _p("duplicates | dupes | duplicate values | repeats | the dupes | repeated entries | dups"),
    },
    "Unique": {
        "pre": _p("unique | non-duplicate | non-repeated | one-off | unrepeated"),
        "post": _p(
            "occurring once | appearing exactly once | with no duplicates | seen just once | without a duplicate | "
            "occurring only once | listed only once"
        ),
        "pred": _p("unique | not duplicated | not repeated | one of a kind"),
        "verb": _p(
            "appear{s} only once | occur{s} exactly once | {dont} repeat | {are} unique | {have} no duplicate | "
            "{do} not appear anywhere else | show{s} up just once"
        ),
        "bare": _p("uniques | unique values | the one-offs | non-duplicates | values that appear only once"),
    },
    "top": {
        "np": _p(
            "the top {x} {n} | the {x} highest {n} | the {x} largest {n} | the top {x} | the biggest {x} {n} | "
            "top {x} {n} | the highest {x} {n} | the {x} greatest {n} | the largest {x} {n} | the top-{x} {n} | "
            "the {x} top {n} | the {x} max {n} | the {x} biggest {n}"
        ),
        "post": _p("in the top {x} | ranked in the top {x} | among the top {x} | among the {x} highest"),
        "verb": _p("rank{s} in the top {x} | {are} among the {x} highest | {are} in the top {x}"),
        "pred": _p("in the top {x} | among the {x} largest"),
        "bare": _p("top {x} | top {x} values | highest {x} | the top {x} | largest {x} values"),
    },
    "top%": {
        "np": _p(
            "the top {x}% of {n} | the top {x}% | the highest {x}% of {n} | the top {x} percent of {n} | the top {x} "
            "per cent | the best {x}% of {n} | the largest {x}% of {n} | the upper {x}% of {n} | the top {x}% {n} | "
            "the highest {x} percent"
        ),
        "post": _p("in the top {x}% | in the top {x} percent | within the highest {x}% | in the upper {x}%"),
        "verb": _p("rank{s} in the top {x}% | fall{s} in the top {x} percent | {are} in the top {x}%"),
        "pred": _p("in the top {x}% | in the top {x} percent"),
        "bare": _p("top {x}% | top {x} percent | highest {x}% | top {x} %"),
    },
    "bottom": {
        "np": _p(
            "the bottom {x} {n} | the {x} lowest {n} | the {x} smallest {n} | the bottom {x} | the lowest {x} {n} | "
            "bottom {x} {n} | the {x} worst {n} | the smallest {x} {n} | the bottom-{x} {n} | the {x} min {n} | "
            "the {x} least {n}"
        ),
        "post": _p("in the bottom {x} | ranked in the bottom {x} | among the bottom {x} | among the {x} lowest"),
        "verb": _p("rank{s} in the bottom {x} | {are} among the {x} smallest | {are} in the bottom {x}"),
        "pred": _p("in the bottom {x} | among the {x} lowest"),
        "bare": _p("bottom {x} | bottom {x} values | lowest {x} | the bottom {x} | smallest {x} values"),
    },
    "bottom%": {
        "np": _p(
            "the bottom {x}% of {n} | the bottom {x}% | the lowest {x}% of {n} | the bottom {x} percent of {n} | "
            "the bottom {x} per cent | the worst {x}% of {n} | the smallest {x}% of {n} | the lower {x}% of {n} | "
            "the bottom {x}% {n} | the lowest {x} percent"
        ),
        "post": _p("in the bottom {x}% | in the bottom {x} percent | within the lowest {x}% | in the lower {x}%"),
        "verb": _p("rank{s} in the bottom {x}% | fall{s} in the bottom {x} percent | {are} in the bottom {x}%"),
        "pred": _p("in the bottom {x}% | in the bottom {x} percent"),
        "bare": _p("bottom {x}% | bottom {x} percent | lowest {x}% | bottom {x} %"),
    },
    "aboveAverage": {
        "pre": _p("above-average | above average | higher-than-average | better-than-average"),
        "post": _p(
            "above average | above the average | higher than the average | greater than the mean | over the average "
            "| above the mean | exceeding the average | bigger than the column average | higher than average"
        ),
        "pred": _p("above average | above the average | higher than the mean | greater than the average"),
        "verb": _p(
            "beat{s} the average | exceed{s} the mean | {are} above average | {are} higher than the average | "
            "{are} over the average"
        ),
        "bare": _p("above average | above-average values | > average | anything above the mean"),
    },
    "belowAverage": {
        "pre": _p("below-average | below average | lower-than-average | worse-than-average"),
        "post": _p(
            "below average | below the average | lower than the average | less than the mean | under the average | "
            "below the mean | smaller than the column average | lower than average"
        ),
        "pred": _p("below average | below the average | lower than the mean | less than the average"),
        "verb": _p(
            "fall{s} below the average | {are} below average | {are} lower than the mean | {are} under the average "
            "| {dont} reach the average"
        ),
        "bare": _p("below average | below-average values | < average | anything under the mean"),
    },
}

# NOT(f(...)), for the functions a negation reads naturally on.
_NOT: dict[str, dict[str, list[str]]] = {
    "TextContains": {
        "post": _p(
            "not containing {x} | without {x} | without {x} in them | not mentioning {x} | missing the text {x} | "
            "lacking {x} | not including {x}"
        ),
        "verb": _p(
            "{dont} contain {x} | {do} not contain {x} | {dont} include {x} | {dont} mention {x} | "
            "{dont} have {x} in {them}"
        ),
        "bare": _p("without {x} | not containing {x} | doesn't contain {x} | no {x}"),
    },
    "TextEquals": {
        "post": _p(
            "not equal to {x} | other than {x} | not marked {x} | not set to {x} | not reading {x} | except {x} | "
            "with any value except {x} | different from {x}"
        ),
        "pred": _p("not {x} | anything but {x} | not equal to {x} | anything other than {x} | not marked {x}"),
        "verb": _p(
            "{dont} say {x} | {arent} {x} | {are} not {x} | {do} not equal {x} | {dont} match {x} | "
            "{are} anything but {x}"
        ),
        "bare": _p("not {x} | everything except {x} | anything but {x} | != {x} | <> {x} | all but {x}"),
    },
    "TextStartsWith": {
        "post": _p("not starting with {x} | not beginning with {x} | without the prefix {x}"),
        "verb": _p("{dont} start with {x} | {do} not begin with {x}"),
        "bare": _p("not starting with {x} | doesn't start with {x}"),
    },
    "TextEndsWith": {
        "post": _p("not ending with {x} | not ending in {x} | without the suffix {x}"),
        "verb": _p("{dont} end with {x} | {dont} end in {x}"),
        "bare": _p("not ending in {x} | doesn't end with {x}"),
    },
    "GreaterThan": {
        "post": _p("not greater than {x} | not above {x} | not over {x}"),
        "pred": _p("not greater than {x} | not above {x}"),
        "verb": _p("{arent} greater than {x} | {arent} above {x}"),
    },
    "LessThan": {
        "post": _p("not less than {x} | not below {x} | not under {x}"),
        "pred": _p("not less than {x} | not below {x}"),
        "verb": _p("{arent} less than {x} | {arent} below {x}"),
    },
    "GreaterThanEqual": {
        "post": _p("not greater than or equal to {x}"),
        "verb": _p("{arent} greater than or equal to {x}"),
    },
    "LessThanEqual": {
        "post": _p("not less than or equal to {x}"),
        "verb": _p("{arent} less than or equal to {x}"),
    },
    "Blanks": {
        "pre": _p("non-blank | non-empty | filled | filled-in | populated | nonblank"),
        "post": _p("with a value | with something in them | with data | containing anything | that aren't empty"),
        "pred": _p("not blank | not empty | filled in | populated | non-empty"),
        "verb": _p(
            "{are} not blank | {have} a value | {have} data | {are} not empty | {have} something in {them} | "
            "{arent} empty"
        ),
        "bare": _p("non-blanks | non-empty cells | anything that isn't blank | filled cells | everything not empty"),
    },
    "Errors": {
        "pre": _p("non-error | error-free"),
        "post": _p("without errors | with no error | free of errors | not showing an error"),
        "pred": _p("error-free | not in error"),
        "verb": _p("{dont} show an error | {do} not contain an error | {are} error-free"),
        "bare": _p("non-errors | everything except errors | anything that isn't an error"),
    },
}

# Rules whose value the request only implies ("negative numbers" is LessThan(0), "the highest price" is top(1)): the
# model must write a value no word of the request holds, so the value tagger must not look for one.
_IMPLIED: dict[tuple[str, str], dict[str, list[str]]] = {
    ("LessThan", "0"): {
        "pre": _p("negative | below-zero"),
        "post": _p("below zero | less than zero | under zero | in the red | in the negative"),
        "pred": _p("negative | below zero | less than zero | in the red"),
        "verb": _p("{are} negative | go{es} negative | drop{s} below zero | {are} below zero | {are} in the red"),
        "bare": _p("negatives | negative numbers | negative values | anything negative | anything below zero"),
    },
    ("GreaterThan", "0"): {
        "pre": _p("positive | above-zero"),
        "post": _p("above zero | greater than zero | more than zero | over zero"),
        "pred": _p("positive | above zero | greater than zero"),
        "verb": _p("{are} positive | {are} above zero | {are} greater than zero"),
        "bare": _p("positives | positive numbers | positive values | anything positive | anything above zero"),
    },
    ("GreaterThanEqual", "0"): {
        "pre": _p("non-negative | nonnegative"),
        "post": _p("of zero or more | zero or above | not below zero"),
        "pred": _p("non-negative | zero or more | not negative | zero or above"),
        "verb": _p("{arent} negative | {are} zero or more | {do} not go below zero"),
        "bare": _p("non-negative numbers | anything not negative"),
    },
    ("Equals", "0"): {
        "pre": _p("zero"),
        "post": _p("equal to zero | of zero | with a value of zero | at zero | that read zero"),
        "pred": _p("zero | equal to zero | exactly zero | nil"),
        "verb": _p("{are} zero | equal{s} zero | {are} exactly zero | {have} a value of zero"),
        "bare": _p("zeros | zeroes | all the zeros | zero values | every zero"),
    },
    ("NotEquals", "0"): {
        "pre": _p("non-zero | nonzero"),
        "post": _p("other than zero | not equal to zero | different from zero"),
        "pred": _p("non-zero | not zero | anything but zero"),
        "verb": _p("{arent} zero | {dont} equal zero | {are} not zero"),
        "bare": _p("non-zero values | nonzeros | anything that isn't zero | everything except zeros"),
    },
    ("top", "1"): {
        "np": _p(
            "the highest {n} | the largest {n} | the maximum {n} | the biggest {n} | the max {n} | the single "
            "highest {n} | the greatest {n}"
        ),
        "bare": _p("the maximum | the max | the highest value | the largest value | the biggest number"),
    },
    ("bottom", "1"): {
        "np": _p("the lowest {n} | the smallest {n} | the minimum {n} | the min {n} | the single lowest {n}"),
        "bare": _p("the minimum | the min | the lowest value | the smallest value | the smallest number"),
    },
}

_SCALE_NAMES = {
    "ColorScale": _p(
        "a color scale | a colour scale | a 3-color scale | a two-colour scale | a green-yellow-red color scale | "
        "a red-to-green colour scale | a heat map | a heatmap | a colour gradient | a gradient fill | "
        "a red-white-blue scale | a 3-colour scale | color scales | a blue-white color scale | "
        "a white to green gradient | a 2-color scale"
    ),
    "DataBar": _p(
        "data bars | a data bar | databars | in-cell bars | green data bars | gradient data bars | solid-fill data "
        "bars | in-cell bar charts | progress bars | blue databars | bars inside the cells | a data bar format"
    ),
    "IconSet": _p(
        "an icon set | icon sets | icons | traffic lights | traffic-light icons | arrows | a 3-arrow icon set | flags "
        "| star ratings | RAG icons | red/amber/green icons | up and down arrows | a 3-traffic-light icon set | check "
        "marks and crosses | signal icons | a 5-rating icon set"
    ),
}
_SCALE_VPS = _p(
    "add {name} to {t} | apply {name} to {t} | put {name} on {t} | use {name} for {t} | show {t} with {name} | "
    "format {t} with {name} | give {t} {name} | set up {name} on {t} | create {name} for {t} | visualise {t} with "
    "{name} | visualize {t} using {name} | insert {name} in {t} | add {name} for {t}"
)
_SCALE_OWN_VPS = {
    "ColorScale": _p(
        "heat-map {t} | colour {t} on a gradient | shade {t} from low to high | shade {t} from red to green | colour "
        "{t} by value | color-code {t} from lowest to highest | turn {t} into a heat map | show {t} as a heatmap | "
        "apply colour scale formatting to {t} | make {t} a heat map | colour {t} from green (high) to red (low)"
    ),
    "DataBar": _p(
        "show {t} as bars | draw bars in {t} | display {t} with bars | add bar visuals to {t} | fill {t} with bars "
        "proportional to the value | show the size of {t} with bars | turn {t} into data bars"
    ),
    "IconSet": _p(
        "mark {t} with {name} | flag {t} with {name} | rate {t} with {name} | show {name} next to {t} | put {name} "
        "beside {t} | show up/down arrows for {t} | label {t} with {name} | add icons to {t}"
    ),
}
_SCALE_BARE = _p("{name} on {t} | {name} for {t} | {t} with {name} | {name} | {name} please | {name} in {t}")
_SCALE_TARGETS = _p(
    "the {n} | {n} | my {n} | all the {n} | these {n} | the {n} column | column {col} | {range} | {col}:{col} | "
    "this range | the selected cells | the data | the numbers | the values in column {col} | the {n} in column {col} "
    "| the whole {n} column"
)

# ---- nouns, verbs and sentence frames ----

_NUM_NOUNS = [
    tuple(pair.split("/"))
    for pair in _p(
        "sale/sales | score/scores | age/ages | price/prices | amount/amounts | revenue/revenue figures | profit/"
        "profits | cost/costs | salary/salaries | quantity/quantities | stock level/stock levels | temperature/"
        "temperatures | rating/ratings | weight/weights | balance/balances | budget/budgets | expense/expenses | "
        "margin/margins | discount/discounts | total/totals | mark/marks | grade/grades | population/populations | "
        "distance/distances | duration/durations | view count/view counts | order value/order values | invoice "
        "amount/invoice amounts | growth rate/growth rates | commission/commissions | units sold/units sold | hours "
        "worked/hours worked | days overdue/days overdue | test result/test results | KPI/KPIs | delivery time/"
        "delivery times | response time/response times | conversion rate/conversion rates | unit price/unit prices "
        "| tax amount/tax amounts | interest rate/interest rates | lead time/lead times | headcount/headcounts | "
        "GPA/GPAs | BMI/BMI values | rainfall/rainfall totals | year/years | mileage/mileages | percentage/"
        "percentages | blood pressure/blood pressure readings | pulse/pulses | dosage/dosages | glucose level/"
        "glucose levels | fuel cost/fuel costs | flight time/flight times | journey/journeys | ride/rides | "
        "parcel/parcels | package/packages | crate/crates | pallet/pallets | loan/loans | mortgage/mortgages | "
        "deposit/deposits | withdrawal/withdrawals | refund amount/refund amounts | bonus/bonuses | wage/wages | "
        "overtime hour/overtime hours | absence/absences | exam mark/exam marks | "
        "quiz score/quiz scores | lap time/lap times | race time/race times | goal tally/goal tallies | "
        "assist/assists | point total/point totals | follower count/follower counts | click/clicks | "
        "impression/impressions | download/downloads | page view/page views | bounce rate/bounce rates | "
        "return rate/return rates | defect count/defect counts | error rate/error rates | "
        "measurement/measurements | humidity/humidity levels | speed/speeds | altitude/altitudes | depth/depths | "
        "height/heights | length/lengths | width/widths | volume/volumes | capacity/capacities | "
        "rent/rents | fee/fees | fine/fines | premium/premiums | claim/claims | "
        "invoice total/invoice totals | order quantity/order quantities | reorder level/reorder levels | "
        "on-hand count/on-hand counts | backlog/backlogs | wait time/wait times | call length/call lengths | "
        "ticket count/ticket counts | survey score/survey scores | NPS/NPS scores | calorie count/calorie counts | "
        "step count/step counts | sleep hour/sleep hours | vote/votes | seat count/seat counts | guest count/"
        "guest counts | room rate/room rates | delay/delays | tenure/tenures | experience/years of experience"
    )
]
_TEXT_NOUNS = [
    tuple(pair.split("/"))
    for pair in _p(
        "status/statuses | city/cities | country/countries | product code/product codes | name/names | customer/"
        "customers | department/departments | region/regions | category/categories | email/emails | SKU/SKUs | "
        "priority/priorities | comment/comments | description/descriptions | team/teams | supplier/suppliers | "
        "ticket ID/ticket IDs | order ID/order IDs | state/states | answer/answers | result/results | size/sizes | "
        "label/labels | title/titles | file name/file names | invoice number/invoice numbers | project/projects | "
        "owner/owners | stage/stages | task/tasks | note/notes | location/locations | brand/brands | model/models | "
        "course/courses | employee/employees | surname/surnames | account code/account codes | vendor/vendors | "
        "client/clients | patient/patients | doctor/doctors | nurse/nurses | ward/wards | "
        "teacher/teachers | subject/subjects | class/classes | athlete/athletes | club/clubs | venue/venues | "
        "event/events | flight/flights | airline/airlines | route/routes | vehicle/vehicles | driver/drivers | "
        "warehouse/warehouses | branch/branches | shop/shops | outlet/outlets | channel/channels | campaign/"
        "campaigns | keyword/keywords | tag/tags | URL/URLs | domain/domains | username/usernames | user ID/"
        "user IDs | role/roles | contract/contracts | policy/policies | risk level/risk levels | grade letter/"
        "grade letters | material/materials | ingredient/ingredients | recipe/recipes | "
        "book title/book titles | author/authors | genre/genres | language/languages | currency/currencies | "
        "postcode/postcodes | zip code/zip codes | country code/country codes | "
        "serial number/serial numbers | batch number/batch numbers | part number/part numbers | asset tag/asset tags"
    )
]
_GENERIC_NUM = [
    tuple(p.split("/"))
    for p in _p(
        "cell/cells | value/values | number/numbers | figure/figures | "
        "entry/entries | data point/data points | amount/amounts"
    )
]
_GENERIC_TEXT = [
    tuple(p.split("/"))
    for p in _p(
        "cell/cells | value/values | entry/entries | text value/text values | item/items | label/labels | field/fields"
    )
]
_ROW_NOUNS = _p(
    "rows | records | lines | entries | orders | products | students | employees | customers | transactions | "
    "tasks | tickets | items | projects | accounts | invoices | shipments"
)

_VERBS = _p(
    "highlight {np}+ | highlight {np}+ | highlight {np}+ | colour {np}+ | color {np}+ | color {np} {color} | "
    "colour {np} {color} | shade {np}+ | shade {np} {color} | mark {np}+ | flag {np}+ | format {np}+ | bold {np} | "
    "fill {np} {color} | fill {np} with {color} | make {np} {color} | make {np} bold | turn {np} {color} | show "
    "{np} in {color} | paint {np} {color} | emphasise {np}+ | emphasize {np}+ | pick out {np}+ | call out {np}+ | "
    "apply a {color} fill to {np} | apply conditional formatting to {np}+ | put a {color} background on {np} | "
    "give {np} a {color} background | set the background of {np} to {color} | change the font colour of {np} to "
    "{color} | change the colour of {np}+ | style {np}+ | tint {np} {color} | select {np} | identify {np}+ | "
    "find {np} | spot {np} | highlight {np} in {color} | make {np} stand out | underline {np} | italicise {np} | "
    "grey out {np} | strike through {np} | add a {color} highlight to {np} | add conditional formatting to {np}+ | "
    "apply formatting to {np}+ | format {np} {color} | colour-code {np} | red-flag {np} | outline {np}+ | "
    "show {np}+ | highlight {np} with {color} | mark {np} in {color} | cf {np}+"
)
_STYLES = _p(
    "in red | in green | in yellow | in orange | in bold | with a red fill | with a green background | with a "
    "yellow fill | with red text | using a light red fill | with light red fill and dark red text | in light green | "
    "in amber | (red) | - red background | in pink | with a blue fill | in bold red | with a grey fill | "
    "with green text | yellow"
)
_COLOURS = _p(
    "red | green | yellow | orange | blue | light red | light green | pink | purple | grey | gray | amber | "
    "dark red | light blue | bright yellow | pale green"
)
_PARTS = _p(
    "highlighted | highlighted | coloured | colored | colored {color} | coloured {color} | shaded | shaded {color} | "
    "in {color} | {color} | flagged | marked | bold | bolded | filled {color} | with a {color} fill | formatted | "
    "highlighted in {color} | turned {color}"
)
_VP_FRAMES = _p(
    "{vp} | {vp} | {vp} | {vp} | please {vp} | {vp} please | I want to {vp} | I'd like to {vp} | I need to {vp} | "
    "how do I {vp}? | how can I {vp}? | how to {vp} | can you {vp}? | could you {vp}? | help me {vp} | is there a "
    "way to {vp}? | {vp} using conditional formatting | {vp} with conditional formatting | use conditional "
    "formatting to {vp} | I'm trying to {vp} | need to {vp} | want to {vp} | let's {vp} | {vp} for me | set up a "
    "rule to {vp} | what rule would {vp}? | write a CF rule to {vp} | conditional formatting: {vp} | {vp} "
    "automatically | I would like to {vp} | trying to {vp} | we need to {vp} | pls {vp} | quick one: {vp} | hey, "
    "can you {vp} | apply a rule to {vp} | excel: {vp} | i wanna {vp}"
)
_NP_FRAMES = _p(
    "{np} | {np} | {np} should be {part} | I want {np} {part} | I need {np} {part} | {np} -> {color} | {np} => "
    "{part} | {np}: {color} | {np} in {color} | want {np} {part} | make sure {np} {are} {part} | show me {np} | "
    "can {np} be {part}? | conditional formatting for {np} | CF rule for {np} | rule for {np} | I'd like {np} to "
    "be {part} | is it possible to get {np} {part}? | any way to get {np} {part}? | get {np} {part} | "
    "only {np} | {np} to be {part} please"
)
# For a bare body ("> 500", "contains x"): frames that need no noun phrase around it.
_BARE_FRAMES = _p(
    "{np} | {np} | {np} | {np} -> {color} | {np}: {color} | {np} in {color} | {np} => {part} | {np} - {color} fill "
    "| cf: {np} | conditional formatting for {np} | rule for {np} | {np} please | {np}, {color} | {np} ({color}) "
    "| format if {np} | highlight if {np} | color if {np} | {color} if {np} | when {np}, make it {color}"
)
_SHEETS = _p(
    "Sheet1 | Sheet2 | Sales | Q3 Report | Inventory | Data | Summary | 2024 | Budget | Staff List | Orders | "
    "Results | Tracker | Jan | Raw Data | Dashboard | Übersicht | Données"
)
_LOCS = _p(
    "in column {col} | in col {col} | in column {col} only | in {range} | in range {range} | from {c1} to {c2} | "
    "for {range} | on sheet {sheet} | on the {sheet} sheet | in the {sheet} tab | in column {col} of {sheet} | "
    "in {col}:{col} | in the {cn} column | in this column | in the selection | in the selected range | "
    "in my table | for the whole column | on sheet {sheet}, range {range} | across {range} | in the {CN} column | "
    "in the {CN} column | in column {CN} | under the {CN} heading | in the '{CN}' column | in {CN}"
)
# Column headers as sheets spell them: words a request names its column by, never a value of the rule.
_HEADERS = _p(
    "Days Overdue | Qty | Amount Due | Unit Cost | Signed Off | Stage | Remarks | Delta | Target | Balance | Age | "
    "Due Date | Discount | Margin | Code | Category | Q1 | FY24 | Net | % Change | Owner | Headcount | Hours | "
    "Spend | Forecast | Actual | Tier | Grade | Team | Dept | Total | Sold | In Stock | Returned | Paid On | "
    "Start Date | Shift | Sector | Segment | Verified"
)
_TYPOS = {
    "highlight": _p("higlight | hightlight | hilight"),
    "formatting": _p("formating | formattting"),
    "format": _p("fromat | formatt"),
    "conditional": _p("conditonal | condtional"),
    "column": _p("colum | coloumn | collumn"),
    "greater": _p("grater | greather"),
    "than": _p("then"),
    "between": _p("betwen | beetween"),
    "containing": _p("containg | contaning"),
    "duplicate": _p("duplicat | dupliate"),
    "duplicates": _p("duplicats | duplcates"),
    "values": _p("vaules | valuse"),
    "colour": _p("colur"),
    "color": _p("colr | colour"),
    "average": _p("avarage | averge"),
    "percent": _p("precent | percnt"),
    "please": _p("pls | plz"),
    "cells": _p("cels | cell"),
    "empty": _p("emtpy"),
    "which": _p("wich"),
    "equal": _p("equel | eqaul"),
    "unique": _p("uniqe"),
}

_AGREE = {
    True: {
        "{s}": "",
        "{es}": "",
        "{are}": "are",
        "{arent}": "aren't",
        "{have}": "have",
        "{do}": "do",
        "{dont}": "don't",
        "{them}": "them",
    },
    False: {
        "{s}": "s",
        "{es}": "es",
        "{are}": "is",
        "{arent}": "isn't",
        "{have}": "has",
        "{do}": "does",
        "{dont}": "doesn't",
        "{them}": "it",
    },
}


def _agree(s: str, plural: bool) -> str:
    for k, v in _AGREE[plural].items():
        s = s.replace(k, v)
    return s


# ---- rules: specs, rendering, sampling ----
# A spec is (name, *args) for a rule function, ("NOT", spec) or ("AND" | "OR", spec, spec, ...).

_NUMERIC = ("GreaterThan", "LessThan", "GreaterThanEqual", "LessThanEqual")
_TEXTUAL = ("TextEquals", "TextContains", "TextStartsWith", "TextEndsWith")
_NOARG = ("Blanks", "Errors", "Duplicate", "Unique", "aboveAverage", "belowAverage", "ColorScale", "DataBar", "IconSet")
_CANON = {
    n.lower(): n
    for n in (*_NUMERIC, *_TEXTUAL, *_NOARG, "Between", "NotBetween", "Equals", "NotEquals", "top", "bottom")
}
_VALUE_RULES = (*_NUMERIC, *_TEXTUAL, "Between", "NotBetween", "Equals", "NotEquals", "Blanks", "Errors")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?%?")

Spec = tuple


def render(spec: Spec) -> str:
    """The rule a spec stands for, spelled as the train split spells it."""
    name, *args = spec
    if name in ("AND", "OR", "NOT"):
        return f"{name}({','.join(render(a) for a in args)})"
    return f"{name}({', '.join(args)})"


def _leaf(rng: random.Random, fam: str) -> Spec:
    if (fam, "0") in _IMPLIED and rng.random() < 0.08:
        return (fam, "0")
    if fam in _NUMERIC:
        return (fam, _number(rng))
    if fam in ("Between", "NotBetween"):
        lo, hi = _range(rng)
        return (fam, hi, lo) if rng.random() < 0.08 else (fam, lo, hi)
    if fam in ("Equals", "NotEquals"):
        return (fam, _number(rng, percent_ok=False))
    if fam in _TEXTUAL:
        return (fam, _text(rng, fam))
    if fam in ("top", "bottom"):
        return (fam, str(rng.choice([1, 2, 3, 5, 5, 10, 10, 15, 20, 25, 50, 100, rng.randint(1, 40)])))
    if fam in ("top%", "bottom%"):
        return (fam[:-1], f"{rng.choice([1, 5, 10, 10, 15, 20, 25, 30, 50, rng.randint(1, 99)])}%")
    return (fam,)


def _combo(rng: random.Random, op: str) -> Spec:
    r = rng.random()
    if op == "NOT":
        fam = rng.choice([*_TEXTUAL[:2], *_TEXTUAL, "Blanks", "Blanks", "Errors", rng.choice(_NUMERIC)])
        return ("NOT", _leaf(rng, fam))
    if op == "AND":
        if r < 0.35:
            lo, hi = _range(rng)
            a = (rng.choice(["GreaterThan", "GreaterThanEqual"]), lo)
            b = (rng.choice(["LessThan", "LessThanEqual"]), hi)
            return ("AND", b, a) if rng.random() < 0.25 else ("AND", a, b)
        if r < 0.5:
            a, b = _text(rng), _text(rng)
            return ("AND", ("TextContains", a), ("NOT", ("TextContains", b))) if a != b else _combo(rng, op)
        if r < 0.6:
            return ("AND", _leaf(rng, "TextStartsWith"), _leaf(rng, "TextEndsWith"))
        if r < 0.72:
            return ("AND", _leaf(rng, rng.choice(_NUMERIC)), ("NOT", ("Blanks",)))
        fams = rng.choice([_NUMERIC, _TEXTUAL])
        return ("AND", *(_leaf(rng, f) for f in rng.sample(fams, 2)))
    if r < 0.3:
        lo, hi = _range(rng)
        a, b = ("LessThan", lo), ("GreaterThan", hi)
        return ("OR", b, a) if rng.random() < 0.25 else ("OR", a, b)
    if r < 0.6:
        vals = rng.sample(_TEXTS, rng.choice([2, 2, 2, 3]))
        return ("OR", *(("TextEquals", v) for v in vals))
    if r < 0.72:
        return ("OR", *(("TextContains", v) for v in rng.sample(_TEXTS, 2)))
    if r < 0.82:
        return ("OR", ("Blanks",), rng.choice([("Errors",), _leaf(rng, rng.choice(["LessThan", "Equals"]))]))
    fams = rng.choice([_NUMERIC + ("Equals",), _TEXTUAL])
    return ("OR", *(_leaf(rng, f) for f in rng.sample(fams, 2)))


# Rule families and how often the grammar draws each: the train split's rare and absent ones are not rarer here.
_FAMILIES = {
    **dict.fromkeys(_NUMERIC, 1.2),
    "Between": 1.2, "NotBetween": 1.0, "Equals": 1.0, "NotEquals": 1.0,
    **dict.fromkeys(_TEXTUAL, 1.2),
    "Blanks": 1.0, "Errors": 1.0, "Duplicate": 1.0, "Unique": 1.0,
    "top": 0.6, "top%": 0.6, "bottom": 0.6, "bottom%": 0.6, "aboveAverage": 0.8, "belowAverage": 0.8,
    "ColorScale": 0.7, "DataBar": 0.7, "IconSet": 0.7,
    "NOT": 1.4, "AND": 1.4, "OR": 1.4,
}  # fmt: skip


def sample_spec(rng: random.Random) -> Spec:
    """One random rule of the grammar."""
    fam = rng.choices(list(_FAMILIES), weights=list(_FAMILIES.values()))[0]
    return _combo(rng, fam) if fam in ("NOT", "AND", "OR") else _leaf(rng, fam)


def _spec_of(call: Call, depth: int = 0) -> Spec | None:
    """The spec of a parsed rule when the grammar can describe it, else None."""
    if call.key in ("and", "or", "not"):
        # AND/OR of value rules or of NOT(value rule), at the top; NOT of one value rule.
        subs = [a.call for a in call.args]
        n = (1, 1) if call.key == "not" else (2, 3)
        if depth > (call.key == "not") or None in subs or not n[0] <= len(subs) <= n[1]:
            return None
        specs = [_spec_of(c, depth + 1) for c in subs]
        if None in specs or len(set(specs)) < len(specs):  # `AND(GreaterThan(9),GreaterThan(9))`: noise, not a request
            return None
        if call.key == "not":
            return ("NOT", specs[0]) if specs[0][0] in _NOT else None
        if any(s[0] not in _VALUE_RULES and not (s[0] == "NOT" and s[1][0] in _NOT) for s in specs):
            return None
        return (call.key.upper(), *specs)
    name = _CANON.get(call.key)
    args = [a.text for a in call.args]
    if name is None or any(a.call is not None for a in call.args):
        return None
    if name in _NOARG:
        return (name,) if not args else None
    if name in _TEXTUAL:
        return (name, args[0]) if len(args) == 1 and _plain_text(args[0]) and not args[0].startswith("$") else None
    if not args or not all(_NUMBER.fullmatch(a) for a in args):
        return None
    if name in ("top", "bottom"):
        pct = args[0].endswith("%")
        ok = len(args) == 1 and re.fullmatch(r"\d+%?", args[0]) and 1 <= int(args[0].rstrip("%")) <= 1000 / 10**pct
        return (name, args[0]) if ok else None
    return (name, *args) if len(args) == (2 if "Between" in name else 1) else None


# ---- describing a spec ----


@dataclass
class _Cond:
    """The phrasings of one condition, by slot (see _F), values already in as placeholders; kind: the nouns it
    suits (num, text or any)."""

    forms: dict[str, list[str]]
    kind: str
    one: bool = False  # top(1)/bottom(1): "the top 1 price", not "prices"


@dataclass
class _Req:
    """The values of one request: placeholders in the text until the end, so that casing and typos leave them be."""

    rng: random.Random
    vals: list[tuple[str, str]] = field(default_factory=list)
    implied: set[str] = field(default_factory=set)  # values the request implies but does not write (_IMPLIED)

    def val(self, plain: str, shown: str) -> str:
        self.vals.append((plain, shown))
        return f"\ue000{len(self.vals) - 1}\ue001"

    def style(self) -> tuple[str, bool, str]:
        """How to write the numbers of one condition: the percent sign's spelling, thousands separators, and a unit
        or currency that the rule leaves out ("$250", "20 kg")."""
        unit = _unit(self.rng) if self.rng.random() < 0.2 else ""
        return self.rng.choice(["%", "%", "%", "%", " percent", " %", " per cent"]), self.rng.random() < 0.3, unit

    def number(self, x: str, style: tuple[str, bool, str], first: bool = False) -> str:
        """A number as the request shows it; `first` of two bounds takes a currency but no unit ("2 and 4 kg")."""
        n = x.rstrip("%")
        if x.endswith("%"):
            return self.val(n, n + style[0])
        shown = n
        if style[1] and re.fullmatch(r"-?\d{4,}", n) and not 1900 <= abs(int(n)) <= 2100:
            shown = f"{int(n):,}"
        unit = style[2]
        if unit.startswith(" "):
            shown += "" if first else unit
        elif unit and not n.startswith("-"):
            shown = unit + shown
        return self.val(n, shown)

    def text(self, t: str) -> str:
        q = self.rng.random()
        shown = f"'{t}'" if q < 0.12 else f'"{t}"' if q < 0.24 else f"“{t}”" if q < 0.27 else t
        return self.val(t, shown)

    def finish(self, s: str) -> str:
        def sub(m: re.Match) -> str:
            plain, shown = self.vals[int(m.group(1))]
            star = s[m.start() - 1 : m.start()] == "*" or s[m.end() : m.end() + 1] == "*"
            return plain if star else shown

        return re.sub("\ue000(\\d+)\ue001", sub, s)


def _fill(templates: list[str], x: str = "", y: str = "") -> list[str]:
    return [t.replace("{x}", x).replace("{y}", y) for t in templates]


def _leaf_cond(spec: Spec, req: _Req, negated: bool = False) -> _Cond | None:
    name, *args = spec
    if name in ("top", "bottom") and args[0].endswith("%"):
        name += "%"
    table = (_NOT if negated else _F).get(name)
    if table is None:
        return None
    implied = None if negated or len(args) != 1 else _IMPLIED.get((name, args[0]))
    if implied and req.rng.random() < 0.6:
        req.implied.add(args[0])
        return _Cond(dict(implied), "num", name in ("top", "bottom"))
    if name in _TEXTUAL:
        x, y, kind = req.text(args[0]), "", "text"
    elif name in ("top%", "bottom%"):
        x, y, kind = req.val(args[0][:-1], args[0][:-1]), "", "num"
    else:
        style = req.style()
        if name in ("top", "bottom") or (any(a.startswith("-") for a in args) and not style[2].startswith(" ")):
            style = (*style[:2], "")  # "the top 5 kg" is no count; "-5 and $10" mixes signs and currency
        x = req.number(args[0], style, first=len(args) > 1) if args else ""
        y = req.number(args[1], style) if len(args) > 1 else ""
        kind = "num" if args else ("any" if name in ("Blanks", "Errors", "Duplicate", "Unique") else "num")
    forms = {k: _fill(v, x, y) for k, v in table.items()}
    if name in ("Between", "NotBetween"):
        signed = any(a.startswith("-") for a in args)
        ordered = _value(args[0]) <= _value(args[1])
        for k, v in forms.items():  # "5-10" misreads with a minus sign; "below 10 or above 5" is not NotBetween
            forms[k] = [
                t
                for t in v
                if not (signed and re.search("\ue001[-–]\ue000", t)) and (ordered or not re.search(r"\bor\b", t))
            ]
    if name in ("Equals", "TextEquals") and len(args[0]) > 12:
        forms.pop("pre", None)
    return _Cond(forms, kind, name in ("top", "bottom") and args[0] == "1")


def _join(parts: list[str], op: str, rng: random.Random) -> str:
    word = rng.choice([" and ", " and ", " but "]) if op == "AND" else " or "
    if len(parts) > 2:
        return ", ".join(parts[:-1]) + rng.choice(["", ","]) + word + parts[-1]
    if rng.random() < 0.2:
        return ("both " + " and ".join(parts)) if op == "AND" else ("either " + " or ".join(parts))
    return word.join(parts)


def _cond_of(spec: Spec, req: _Req) -> _Cond | None:
    name, *args = spec
    rng = req.rng
    if name == "NOT":
        return _leaf_cond(args[0], req, negated=True) if args[0][0] not in ("AND", "OR", "NOT") else None
    if name not in ("AND", "OR"):
        return _leaf_cond(spec, req)
    if name == "OR" and all(a[0] in ("TextEquals", "TextContains") for a in args) and len({a[0] for a in args}) == 1:
        if rng.random() < 0.6:
            return _or_list(args[0][0], [req.text(a[1]) for a in args], rng)
    kids = [_cond_of(a, req) for a in args]
    if None in kids:
        return None
    kinds = {k.kind for k in kids} - {"any"}
    forms = {}
    for slot in ("post", "pred", "verb", "bare"):
        if all(k.forms.get(slot) for k in kids):
            forms[slot] = [_join([rng.choice(k.forms[slot]) for k in kids], name, rng) for _ in range(3)]
    if not forms.get("post") and not forms.get("verb"):
        return None
    return _Cond(forms, kinds.pop() if len(kinds) == 1 else "any")


def _or_list(fam: str, xs: list[str], rng: random.Random) -> _Cond:
    """OR of TextEquals (or of TextContains) over several values: "Done, Pending or Late"."""
    if len(xs) > 2 and rng.random() < 0.2:
        lst = " / ".join(xs)
    else:
        lst = ", ".join(xs[:-1]) + rng.choice([" or ", " or ", ", or "] if len(xs) > 2 else [" or "]) + xs[-1]
    if rng.random() < 0.25:
        lst = "either " + lst
    if fam == "TextEquals":
        forms = {
            "post": _p(
                "equal to {l} | reading {l} | marked {l} | set to {l} | matching {l} | with the value {l} | "
                "labelled {l} | saying {l}"
            ),
            "pred": _p("{l} | equal to {l} | set to {l} | marked {l}"),
            "verb": _p("say{s} {l} | {are} {l} | equal{s} {l} | match{es} {l} | read{s} {l}"),
            "bare": _p("{l} | = {l}"),
        }
    else:
        forms = {
            "post": _p("containing {l} | mentioning {l} | with {l} in them | including {l} | containing the text {l}"),
            "verb": _p("contain{s} {l} | mention{s} {l} | include{s} {l} | {have} {l} in {them}"),
            "bare": _p("contains {l} | containing {l} | text contains {l}"),
        }
    return _Cond({k: [t.replace("{l}", lst) for t in v] for k, v in forms.items()}, "text")


# ---- requests ----


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _cell_range(rng: random.Random) -> tuple[str, str, str]:
    col = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if rng.random() < 0.9 else rng.choice(["AA", "AB", "AD", "BC"])
    a = rng.randint(1, 12)
    return col, f"{col}{a}", f"{col}{a + rng.randint(5, 2000)}"


def _header(rng: random.Random, nouns: list[tuple[str, str]], avoid: set[str]) -> str:
    """A column's header, Title Case: none of the `avoid` words (the request's values, lower case)."""
    for _ in range(10):
        h = rng.choice(_HEADERS) if rng.random() < 0.5 else rng.choice(nouns)[0].title()
        if not set(h.lower().split()) & avoid:
            return h
    return "Data"


def _location(rng: random.Random, nouns: list[tuple[str, str]], avoid: set[str] = frozenset()) -> str:
    col, c1, c2 = _cell_range(rng)
    return (
        rng.choice(_LOCS)
        .replace("{range}", f"{c1}:{c2}")
        .replace("{c1}", c1)
        .replace("{c2}", c2)
        .replace("{col}", col)
        .replace("{sheet}", rng.choice(_SHEETS))
        .replace("{cn}", rng.choice(nouns)[0])
        .replace("{CN}", _header(rng, nouns, avoid))
    )


def _nouns(kind: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(domain nouns, generic nouns) for a condition kind."""
    if kind == "num":
        return _NUM_NOUNS, _GENERIC_NUM
    if kind == "text":
        return _TEXT_NOUNS, _GENERIC_TEXT
    return _NUM_NOUNS + _TEXT_NOUNS, _GENERIC_NUM + _GENERIC_TEXT


def _noun(rng: random.Random, kind: str) -> tuple[str, bool]:
    """A noun phrase head with its determiner, and whether it is plural."""
    domain, generic = _nouns(kind)
    if rng.random() < 0.05:
        return rng.choice(["anything", "everything", "anything", "any value", "any cell"]), False
    own = rng.random() < 0.5
    sing, plur = rng.choice(domain if own else generic)
    if own and not sing.endswith(("value", "values")) and rng.random() < 0.25:  # "price cells", "status values"
        sing, plur = "", f"{sing} {rng.choice(['cells', 'values', 'entries'])}"
    if not sing or rng.random() < 0.8:
        return rng.choice(["", "", "", "all ", "the ", "any ", "all the ", "those "]) + plur, True
    return rng.choice(["any ", "every ", "each "]) + sing, False


# How often a noun phrase takes each shape: a whole phrase ("the top 5 prices"), a noun and a slot's phrasing, a clause
# about a column ("rows where the status is Done"), "rows with a price over 5", or a bare body ("> 500").
_SLOT_WEIGHTS = {"np": 6, "post": 4, "pred": 2, "verb": 2.5, "pre": 1.5, "bare": 0.8, "clause": 1.5, "with": 0.8}
_PRED_LINKS = _p(
    "that {are} | which {are} | that {are} | where the value is | whose value is | if {they} {are} | when {they} {are}"
)


def _np(cond: _Cond, rng: random.Random, avoid: set[str]) -> tuple[str, bool | None]:
    """A noun phrase that names the cells the condition picks, and whether it is plural (None: a bare body such as
    "> 500", which takes no verb); a column it names by its header has none of the `avoid` words."""
    f = cond.forms
    domain, _ = _nouns(cond.kind)
    slots = [
        s
        for s in _SLOT_WEIGHTS
        if f.get(s) or (s == "clause" and (f.get("pred") or f.get("verb"))) or (s == "with" and f.get("post"))
    ]
    slot = rng.choices(slots, weights=[_SLOT_WEIGHTS[s] for s in slots])[0]
    if slot == "np":
        sing, plur = rng.choice(domain + _GENERIC_NUM)
        return rng.choice(f["np"]).replace("{n}", sing if cond.one else plur), True
    if slot == "bare":
        return rng.choice(f["bare"]), None
    if slot == "pre":
        generic = _GENERIC_TEXT if cond.kind == "text" else _GENERIC_NUM
        _, plur = rng.choice(generic if cond.kind == "any" or rng.random() < 0.6 else domain)
        return rng.choice(["", "", "all ", "the ", "any ", "all the "]) + rng.choice(f["pre"]) + " " + plur, True
    if slot in ("clause", "with"):
        head = rng.choice(_ROW_NOUNS + ["cells", "values"])
        head = rng.choice(["", "", "all ", "the ", "any "]) + head
        cn = rng.choice(domain)[0]
        if slot == "with":
            return f"{head} with {_a(cn)} {cn} {rng.choice(f['post'])}", True
        head_cn = _header(rng, domain, avoid)
        subj = rng.choice([f"the {cn}", cn, "the value", "the cell", "the cell value", f"the {cn} value", head_cn])
        conn = rng.choice(["where", "where", "when", "if"] + (["whose"] if not subj.startswith("the") else []))
        if conn == "whose":
            conn, subj = "whose", cn
        if f.get("pred") and (not f.get("verb") or rng.random() < 0.5):
            return f"{head} {conn} {subj} is {rng.choice(f['pred'])}", True
        verbs = [v for v in f["verb"] if "value" not in v] or f["verb"]
        return f"{head} {conn} {subj} {_agree(rng.choice(verbs), False)}", True
    noun, plural = _noun(rng, cond.kind)
    if slot == "post":
        return f"{noun} {rng.choice(f['post'])}", plural
    if slot == "pred":
        conn = rng.choice(_PRED_LINKS)
        conn = conn.replace("{they}", "they" if plural else "it")
        return f"{noun} {_agree(conn, plural)} {rng.choice(f['pred'])}", plural
    conn = rng.choice(["that", "which", "that", "where the value", "whose value"])
    verbs = [v for v in f["verb"] if conn in ("that", "which") or "value" not in v]  # not "whose value has a value"
    if not verbs:
        conn, verbs = "that", f["verb"]
    return f"{noun} {conn} {_agree(rng.choice(verbs), plural and conn in ('that', 'which'))}", plural


def _style(rng: random.Random, s: str) -> str:
    s = s.replace("{color}", rng.choice(_COLOURS))
    return re.sub(r"\b([Aa]) (?=amber|orange)", r"\1n ", s)


def _condition_request(cond: _Cond, rng: random.Random, avoid: set[str]) -> str:
    np, plural = _np(cond, rng, avoid)
    bare = plural is None
    loc = _location(rng, _nouns(cond.kind)[0], avoid) if rng.random() < 0.3 else ""
    loc_first = loc and rng.random() < 0.25
    if loc and not loc_first:
        np = f"{np} {loc}"
    if bare:
        s = rng.choice(_BARE_FRAMES).replace("{np}", np).replace("{part}", rng.choice(_PARTS))
    elif rng.random() < 0.28:
        frame = rng.choice(_NP_FRAMES)
        s = frame.replace("{np}", np).replace("{are}", "are" if plural else "is")
        s = s.replace("{part}", rng.choice(_PARTS))
    else:
        verb = rng.choice(_VERBS)
        vp = verb.rstrip("+").replace("{np}", np)
        if verb.endswith("+") and rng.random() < 0.2:
            vp += " " + rng.choice(_STYLES)
        s = rng.choice(_VP_FRAMES).replace("{vp}", vp)
    s = _style(rng, s)
    return f"{loc}, {s}" if loc_first else s


def _scale_request(fam: str, rng: random.Random) -> str:
    col, c1, c2 = _cell_range(rng)
    t = rng.choice(_SCALE_TARGETS)
    t = t.replace("{n}", rng.choice(_NUM_NOUNS + _GENERIC_NUM)[1]).replace("{col}", col)
    t = t.replace("{range}", f"{c1}:{c2}")
    name = rng.choice(_SCALE_NAMES[fam])
    if rng.random() < 0.2:
        body = rng.choice(_SCALE_BARE)
        if body.startswith("{name}") and name.startswith(("a ", "an ")) and rng.random() < 0.6:
            name = name.split(" ", 1)[1]
        return body.replace("{name}", name).replace("{t}", t)
    vp = rng.choice(_SCALE_VPS * 2 + _SCALE_OWN_VPS[fam]).replace("{name}", name).replace("{t}", t)
    if not re.search(r"\d|column|:|range|selected", t) and rng.random() < 0.2:
        vp += " " + _location(rng, _NUM_NOUNS)
    return rng.choice(_VP_FRAMES).replace("{vp}", vp)


def _typo(s: str, rng: random.Random) -> str:
    words = [m for m in re.finditer(r"[A-Za-z]+", s) if m.group().lower() in _TYPOS]
    if words and rng.random() < 0.6:
        m = rng.choice(words)
        return s[: m.start()] + rng.choice(_TYPOS[m.group().lower()]) + s[m.end() :]
    words = [m for m in re.finditer(r"[A-Za-z]{5,}", s)]
    if not words:
        return s
    m = rng.choice(words)
    w, i = m.group(), rng.randint(1, len(m.group()) - 2)
    w = rng.choice([w[:i] + w[i + 1] + w[i] + w[i + 2 :], w[:i] + w[i + 1 :], w[:i] + w[i] + w[i:]])
    return s[: m.start()] + w + s[m.end() :]


def _surface(s: str, rng: random.Random) -> str:
    """Casing, spacing, end punctuation and the odd typo, as people type."""
    s = re.sub(r"\s+", " ", s).strip()
    if rng.random() < 0.08:
        s = _typo(s, rng)
    r = rng.random()
    if r < 0.22:
        s = s.lower()
    elif r < 0.24:
        s = s.upper()
    elif r < 0.9:
        s = s[:1].upper() + s[1:]
    if not s.endswith("?") and rng.random() < 0.12:
        s += "."
    elif s.endswith("?") and rng.random() < 0.25:
        s = s[:-1]
    return s


def describe(spec: Spec, rng: random.Random) -> tuple[str, frozenset[str]] | None:
    """A request for the rule a spec stands for, with the values it implies without writing them (_IMPLIED); None
    when the grammar has no words for the rule."""
    req = _Req(rng)
    if spec[0] in _SCALE_NAMES:
        s = _scale_request(spec[0], rng)
    else:
        cond = _cond_of(spec, req)
        if cond is None:
            return None
        s = _condition_request(cond, rng, {w for plain, _ in req.vals for w in plain.lower().split()})
    return req.finish(_surface(s, rng)), frozenset(req.implied)


def _mentions_values(rule: str, request: str, implied: frozenset[str] = frozenset()) -> bool:
    """Every number and text operand of the rule is written in the request (a number perhaps with thousands
    separators), but for the values the request implies."""
    flat = re.sub(r"(?<=\d),(?=\d{3})", "", request)
    return all(rule[a:b] in request or rule[a:b] in flat or rule[a:b] in implied for _, a, b in grammar.values(rule))


def _describable(rules: list[str]) -> list[Spec]:
    out = []
    for rule in rules:
        try:
            call = parse(rule)
        except CFError:
            continue
        spec = _spec_of(call)
        if spec is not None and grammar.normalise(render(spec)) == grammar.normalise(rule):
            out.append(spec)
    return out


def synth_pairs(n: int, seed: int = 0, rules: list[str] | None = None) -> list[tuple[str, str]]:
    """n (request, rule) pairs: rules drawn from the grammar over every function the interpreter runs, and, when
    `rules` is given (e.g. the lines of cf_pretrain.txt), about a third of them described from those rules where the
    grammar can describe them. Every rule is valid and evaluable, and every value of a rule is written in its
    request, but for the values of _IMPLIED's phrasings ("negative" for 0). Deterministic for a given seed."""
    rng = random.Random(seed)
    given = _describable(rules) if rules else []
    out: list[tuple[str, str]] = []
    for _ in range(50 * n + 100):
        if len(out) == n:
            break
        spec = rng.choice(given) if given and rng.random() < 1 / 3 else sample_spec(rng)
        rule = render(spec)
        described = describe(spec, rng)
        if described is None or not grammar.valid(rule) or not evaluable(rule):
            continue
        request, implied = described
        if not _mentions_values(rule, request, implied):
            continue
        out.append((request, rule))
    return out
