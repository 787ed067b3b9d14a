"""The corpus's hand-written cases: hostile YAML, broken envelopes, step keys, pipeline shapes,
taskform.yaml, and files that are too large, not text, or links out of the workspace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from runner.spec.yamlbuild import MAX_VALUES
from runner.spec.yamlsrc import MAX_FILE_BYTES

if TYPE_CHECKING:
    from corpus import Case

HEAD = "apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: x}\nspec:\n  steps:\n"
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
    for p, c in zip("abcdefghijk", "bcdefghijkl", strict=True))
MERGES = "a: &a {x: 1, y: 2}\n" + "".join(
    f"{c}: &{c} {{<<: [*{p}], {c}1: {{<<: *{p}}}, {c}2: {{<<: *{p}}}, {c}3: {{<<: *{p}}}}}\n"
    for p, c in zip("abcdefghijklmnop", "bcdefghijklmnopq", strict=True))

YAML = {  # name: (text of specs/case.yaml, path an error names)
    "self alias": ("a: &a [*a]\n", "a[0]"),
    "self merge": ("a: &a {<<: *a}\n", "a.<<"),
    "billion laughs": (LAUGHS, None),
    "merge bomb": (MERGES, None),
    "deep flow lists": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "a[0]"),
    "very deep flow lists": ("a: " + "[" * 200_000 + "]" * 200_000 + "\n", "a[0]"),
    "deep flow maps": ("a: " + "{k: " * 3000 + "1" + "}" * 3000 + "\n", "a.k"),
    "deep block maps": ("a:\n" + "".join("  " * (i + 1) + "k:\n" for i in range(500)), "a.k"),
    "deep block lists": ("".join("  " * i + "- \n" for i in range(500)), None),
    "alias past the depth": ("a: &a " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 50 + "*a" +
                             "]" * 50 + "\n", "b[0]"),
    "python object": (HEAD + "    s: {value: {input: !!python/object/apply:os.system [id]}}\n",
                      "spec.steps.s.value.input"),
    "python name": (HEAD + "    s: {value: {input: !!python/name:os.system ''}}\n",
                    "spec.steps.s.value.input"),
    "local tag": (HEAD + "    s: {value: {input: !foo 1}}\n", "spec.steps.s.value.input"),
    "binary": (HEAD + "    s: {value: {input: !!binary '!!!'}}\n", "spec.steps.s.value.input"),
    "set": (HEAD + "    s: {value: {input: !!set {a, b}}}\n", "spec.steps.s.value.input"),
    "omap": (HEAD + "    s: {value: {input: !!omap [{a: 1}]}}\n", "spec.steps.s.value.input"),
    "tagged key": (HEAD + "    s: {value: {!!python/name:os.system input: 1}}\n",
                   "spec.steps.s.value.input"),
    "int abc": (HEAD + "    s: {value: {input: !!int abc}}\n", "spec.steps.s.value.input"),
    "float abc": (HEAD + "    s: {value: {input: !!float abc}}\n", "spec.steps.s.value.input"),
    "bool maybe": (HEAD + "    s: {value: {input: !!bool maybe}}\n", "spec.steps.s.value.input"),
    "timestamp x": (HEAD + "    s: {value: {input: !!timestamp x}}\n",
                    "spec.steps.s.value.input"),
    "impossible date": (HEAD + "    s: {value: {input: 2024-13-45}}\n",
                        "spec.steps.s.value.input"),
    "huge integer": (HEAD + "    s: {value: {input: " + "9" * 5000 + "}}\n",
                     "spec.steps.s.value.input"),
    "merge of a scalar": (HEAD + "    s: {value: {<<: 5, input: 1}}\n", "spec.steps.s.value.<<"),
    "merge of a list of scalars": (HEAD + "    s: {value: {<<: [1, 2], input: 1}}\n",
                                   "spec.steps.s.value.<<"),
    "undefined alias": (HEAD + "    s: {value: {input: *nope}}\n", "spec.steps.s.value.input"),
    "list as key": (HEAD + "    s: {value: {[a]: 1}}\n", "spec.steps.s.value"),
    "duplicate key": (HEAD + "    s: {value: {input: 1, input: 2}}\n",
                      "spec.steps.s.value.input"),
    "unclosed flow": ("a: {b: [1, 2\n", None),
    "tab indent": ("a:\n\tb: 1\n", None),
    "bad indentation": ("a: 1\n  b: 2\n", None),
    "stray document end": ("a: 1\n...\nb: [\n", None),
    "top-level list": ("- 1\n- 2\n", None),
    "top-level text": ("just text\n", None),
    "bad second document": (HEAD + "    s: {value: {input: 1}}\n---\nkind: [\n", None),
}

ENVELOPE = {  # name: (document text, path)
    "no apiVersion": ("kind: Competency\nmetadata: {name: y}\nspec: {name: Y, proficiency: BASIC}\n",
                      "apiVersion"),
    "apiVersion list": ("apiVersion: [1]\nkind: Competency\nmetadata: {name: y}\n"
                        "spec: {name: Y, proficiency: BASIC}\n", "apiVersion"),
    "apiVersion v2": ("apiVersion: taskform/v2\nkind: Competency\nmetadata: {name: y}\n"
                      "spec: {name: Y, proficiency: BASIC}\n", "apiVersion"),
    "kind list": ("apiVersion: taskform/v1\nkind: [Pipeline]\nmetadata: {name: y}\nspec: {}\n",
                  "kind"),
    "kind mapping": ("apiVersion: taskform/v1\nkind: {a: 1}\nmetadata: {name: y}\nspec: {}\n",
                     "kind"),
    "kind number": ("apiVersion: taskform/v1\nkind: 5\nmetadata: {name: y}\nspec: {}\n", "kind"),
    "kind unknown": ("apiVersion: taskform/v1\nkind: Pipelin\nmetadata: {name: y}\nspec: {}\n",
                     "kind"),
    "no kind": ("apiVersion: taskform/v1\nmetadata: {name: y}\nspec: {}\n", "kind"),
    "metadata list": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: [y]\n"
                      "spec: {name: Y, proficiency: BASIC}\n", "metadata"),
    "no metadata": ("apiVersion: taskform/v1\nkind: Competency\n"
                    "spec: {name: Y, proficiency: BASIC}\n", "metadata"),
    "name list": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: {name: [y]}\n"
                  "spec: {name: Y, proficiency: BASIC}\n", "metadata.name"),
    "name with slash": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: {name: a/b}\n"
                        "spec: {name: Y, proficiency: BASIC}\n", "metadata.name"),
    "labels list": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: {name: y, labels: [a]}\n"
                    "spec: {name: Y, proficiency: BASIC}\n", "metadata.labels"),
    "labels nested": ("apiVersion: taskform/v1\nkind: Competency\n"
                      "metadata: {name: y, labels: {a: {b: 1}}}\n"
                      "spec: {name: Y, proficiency: BASIC}\n", "metadata.labels"),
    "metadata unknown key": ("apiVersion: taskform/v1\nkind: Competency\n"
                             "metadata: {name: y, nmae: z}\nspec: {name: Y, proficiency: BASIC}\n",
                             "metadata.nmae"),
    "envelope unknown key": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: {name: y}\n"
                             "spec: {name: Y, proficiency: BASIC}\nstatus: {}\n", "status"),
    "spec list": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: {name: y}\nspec: [1]\n",
                  "spec"),
    "no spec": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: {name: y}\n", "spec"),
    "lifecycle text": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: {name: y}\n"
                       "spec: {name: Y, proficiency: BASIC}\nlifecycle: never\n", "lifecycle"),
    "lifecycle unknown": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: {name: y}\n"
                          "spec: {name: Y, proficiency: BASIC}\nlifecycle: {keep: true}\n",
                          "lifecycle"),
    "duplicate document": ("apiVersion: taskform/v1\nkind: Competency\nmetadata: {name: c}\n"
                           "spec: {name: C, proficiency: BASIC}\n", "metadata.name"),
    "steps list": ("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: y}\n"
                   "spec: {steps: [a]}\n", "spec.steps"),
    "no steps": ("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: y}\nspec: {}\n",
                 "spec.steps"),
    "empty steps": ("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: y}\n"
                    "spec: {steps: {}}\n", "spec.steps"),
    "pipeline unknown key": ("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: y}\n"
                             "spec: {steps: {a: {value: {input: 1}}}, stages: 1}\n",
                             "spec.stages"),
}

STEP = {  # name: (YAML of step s, path)
    "step not a mapping": ("[value]", "spec.steps.s"),
    "step text": ("value", "spec.steps.s"),
    "no step type": ("{retries: 1}", "spec.steps.s"),
    "two step types": ("{value: {input: 1}, shell: {command: 'true'}}", "spec.steps.s"),
    "unknown step type": ("{vaule: {input: 1}}", "spec.steps.s.vaule"),
    "settings a list": ("{shell: [true]}", "spec.steps.s.shell"),
    "depends_on number": ("{value: {input: 1}, depends_on: 5}", "spec.steps.s.depends_on"),
    "depends_on mapping": ("{value: {input: 1}, depends_on: {a: 1}}", "spec.steps.s.depends_on"),
    "depends_on unknown": ("{value: {input: 1}, depends_on: [nope]}",
                           "spec.steps.s.depends_on[0]"),
    "depends_on itself": ("{value: {input: 1}, depends_on: [s]}", "spec.steps.s.depends_on[0]"),
    "when number": ("{value: {input: 1}, when: 5}", "spec.steps.s.when"),
    "when list": ("{value: {input: 1}, when: [a]}", "spec.steps.s.when"),
    "when unknown step": ("{value: {input: 1}, when: steps.nope.ok}", "spec.steps.s.when"),
    "when itself": ("{value: {input: 1}, when: steps.s.value}", "spec.steps.s.when"),
    "when bad expression": ("{value: {input: 1}, when: 'a b c'}", "spec.steps.s.when"),
    "when unknown variable": ("{value: {input: 1}, when: var.nope}", "spec.steps.s.when"),
    "when unknown name": ("{value: {input: 1}, when: enabled}", "spec.steps.s.when"),
    "when include": ("{value: {input: 1}, when: \"{% include 'x' %}\"}", "spec.steps.s.when"),
    "when unknown filter": ("{value: {input: 1}, when: 'var.x | frob'}", "spec.steps.s.when"),
    "retries negative": ("{value: {input: 1}, retries: -1}", "spec.steps.s.retries"),
    "retries huge": ("{value: {input: 1}, retries: 1000000}", "spec.steps.s.retries"),
    "retries text": ("{value: {input: 1}, retries: many}", "spec.steps.s.retries"),
    "retries bool": ("{value: {input: 1}, retries: yes}", "spec.steps.s.retries"),
    "retries float": ("{value: {input: 1}, retries: 1.5}", "spec.steps.s.retries"),
    "retry_delay nan": ("{value: {input: 1}, retry_delay: .nan}", "spec.steps.s.retry_delay"),
    "retry_delay inf": ("{value: {input: 1}, retry_delay: .inf}", "spec.steps.s.retry_delay"),
    "retry_delay list": ("{value: {input: 1}, retry_delay: [1]}", "spec.steps.s.retry_delay"),
    "retry_delay text": ("{value: {input: 1}, retry_delay: soon}", "spec.steps.s.retry_delay"),
    "retry_delay negative": ("{value: {input: 1}, retry_delay: -1}", "spec.steps.s.retry_delay"),
    "retry_delay a year": ("{value: {input: 1}, retry_delay: 8760h}", "spec.steps.s.retry_delay"),
    "timeout list": ("{value: {input: 1}, timeout: [5]}", "spec.steps.s.timeout"),
    "timeout mapping": ("{value: {input: 1}, timeout: {s: 5}}", "spec.steps.s.timeout"),
    "timeout nan": ("{value: {input: 1}, timeout: .nan}", "spec.steps.s.timeout"),
    "timeout inf": ("{value: {input: 1}, timeout: .inf}", "spec.steps.s.timeout"),
    "timeout zero": ("{value: {input: 1}, timeout: 0}", "spec.steps.s.timeout"),
    "timeout years": ("{value: {input: 1}, timeout: 5 years}", "spec.steps.s.timeout"),
    "timeout huge": ("{value: {input: 1}, timeout: 1e300}", "spec.steps.s.timeout"),
    "timeout bool": ("{value: {input: 1}, timeout: true}", "spec.steps.s.timeout"),
    "lifecycle list": ("{value: {input: 1}, lifecycle: [1]}", "spec.steps.s.lifecycle"),
    "description list": ("{value: {input: 1}, description: [a]}", "spec.steps.s.description"),
    "cycle by depends_on": ("{value: {input: 1}, depends_on: [t]}", None),
    "file_exists odd map": ("{file_exists: {command: ls}}", "spec.steps.s.file_exists"),
    "docker -v climbing": ("{docker_run: {image_tag: 'busybox:1', parameters: ['-v', "
                           "'./../../etc:/x']}}", "spec.steps.s.docker_run.parameters"),
    "docker flag refused": ("{docker_run: {image_tag: 'busybox:1', parameters: ['--privileged']}}",
                            "spec.steps.s.docker_run.parameters"),
    "template too long": ("{value: {input: '{{ 1 }}" + "x" * 100_001 + "'}}",
                          "spec.steps.s.value.input"),
    "template nests deeply": ("{value: {input: '{{ " + "(" * 300 + "1" + ")" * 300 + " }}'}}",
                              "spec.steps.s.value.input"),
    "slow nested loops": ("{value: {input: '{% for i in range(100000) %}{% for j in "
                          "range(100000) %}{% endfor %}{% endfor %}'}}", "spec.steps.s.value.input"),
    "slow macro recursion": ("{value: {input: '{% macro f(n) %}{{ f(n) ~ f(n) if n else 1 }}"
                             "{% endmacro %}{{ f(1) }}'}}", "spec.steps.s.value.input"),
    "doubling namespace": ("{value: {input: \"{% set ns = namespace(s='ab') %}{% for i in "
                           "range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}\"}}",
                           "spec.steps.s.value.input"),
    "captured block": ("{value: {input: \"{% set x %}{% for i in range(100000) %}{{ 'x' * "
                       "1000000 }}{% endfor %}{% endset %}\"}}", "spec.steps.s.value.input"),
}

CONFIG = {  # name: (taskform.yaml, path)
    "second document": ("a: 1\n---\nb: 2\n", None),
    "not a mapping": ("- a\n", None),
    "unknown key": ("paralelism: 3\n", "paralelism"),
    "parallelism text": ("parallelism: lots\n", "parallelism"),
    "parallelism huge": ("parallelism: 100000\n", "parallelism"),
    "specs absolute": ("specs: [/etc/*.yaml]\n", "specs[0]"),
    "specs climbing": ("specs: ['../*.yaml']\n", "specs[0]"),
    "specs empty glob": ("specs: ['']\n", "specs[0]"),
    "specs a mapping": ("specs: {a: 1}\n", "specs"),
    "specs bad glob": ("specs: ['specs/a**.yaml']\n", "specs[0]"),
    "specs dot": ("specs: ['.']\n", "specs[0]"),
    "state outside": ("state: {path: /tmp/state.db}\n", "state.path"),
    "state climbing": ("state: {path: ../state.db}\n", "state.path"),
    "state backend": ("state: {backend: redis}\n", "state.backend"),
    "grading inf": ("grading: {timeout_seconds: .inf}\n", "grading.timeout_seconds"),
    "grading nan": ("grading: {watchdog_slack_seconds: .nan}\n", "grading.watchdog_slack_seconds"),
    "variables list": ("variables: [a]\n", "variables"),
    "variable bad declaration": ("variables: {a: {env: 5, secret: maybe}}\n", "variables.a"),
    "variable unknown key": ("variables: {a: {valeu: 1}}\n", "variables.a.valeu"),
    "docker list": ("docker: [a]\n", "docker"),
    "llm unknown provider": ("llm: {provider: magic}\n", "llm.provider"),
    "python tag": ("parallelism: !!python/object/apply:os.system [id]\n", "parallelism"),
    "bomb": (LAUGHS, None),
    "deep": ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", None),
}


def raw_cases() -> Iterator[Case]:
    from corpus import Case

    for name, (text, path) in YAML.items():
        yield Case(f"yaml: {name}", {"specs/case.yaml": text}, path=path)
    for name, (text, path) in ENVELOPE.items():
        yield Case(f"envelope: {name}", {"specs/case.yaml": text}, path=path)
    for name, (step, path) in STEP.items():
        extra = "    t: {value: {input: 1}, depends_on: [s]}\n" if "cycle" in name else ""
        yield Case(f"step: {name}", {"specs/case.yaml": HEAD + f"    s: {step}\n" + extra},
                   path=path)
    for name, (text, path) in CONFIG.items():
        yield Case(f"taskform.yaml: {name}", {"taskform.yaml": text}, file="taskform.yaml",
                   path=path)
    yield from file_cases()


def file_cases() -> Iterator[Case]:
    from corpus import Case

    yield Case("file: too large", {"specs/case.yaml": "# " + "x" * MAX_FILE_BYTES + "\n"})
    yield Case("file: too many values", {"specs/case.yaml": "a: [" + "1," * MAX_VALUES + "1]\n"},
               path="a")
    yield Case("file: not UTF-8", {"specs/case.yaml": b"a: \xff\xfe\n"})
    yield Case("file: NUL bytes", {"specs/case.yaml": b"a: \x00\n"})
    yield Case("file: link out of the workspace", file="specs/case.yaml",
               links={"specs/case.yaml": "/etc/hostname"})
    yield Case("file: link to a folder's file outside", file="specs/case.yaml",
               links={"specs/case.yaml": "/etc/os-release"})
