"""What templates make of secrets. A value rendered from a secret variable is as sensitive as
the secret, whatever the template did to it (`| upper`, a slice, a concatenation): each such
value is masked wherever taskform prints or stores anything, like the secret itself."""

from __future__ import annotations

from typing import Any

from runner.spec.templating import (
    Scope,
    TemplateProblem,
    analyse,
    expression_values,
    iter_templates,
    render_text,
)
from runner.vocabulary import UNKNOWN

# a derived value shorter than this is not masked: masking every "32" in every output because
# a template printed a secret's length would hide more than it protects
MIN_DERIVED = 4


def derived_values(value: Any, scope: Scope, secret: frozenset[str]) -> list[str]:
    """For every template inside `value` that reads a secret variable: the whole rendered text
    and the value of each of its `{{ }}` on its own. Templates not renderable yet (they read
    outputs not known) give nothing yet; they are looked at again when rendered."""
    if not secret:
        return []
    out: list[str] = []
    for text in iter_templates(value):
        try:
            if not analyse(text).vars & secret:
                continue
            pieces = [render_text(text, scope), *expression_values(text, scope)]
        except TemplateProblem:
            continue  # reported where the template is rendered for real
        out += [str(p) for p in pieces if p is not UNKNOWN and isinstance(p, (str, int, float))
                and not isinstance(p, bool) and len(str(p)) >= MIN_DERIVED]
    return out
