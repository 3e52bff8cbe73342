"""The bounded YAML reader on its own: limits at their exact edges, the located refusal, nothing unsafe built."""

from __future__ import annotations

import pytest
import yaml

from analyzer.safe_yaml import MAX_DEPTH, MAX_EXPANDED_NODES, YamlLimitError, compose_and_construct, load


def _flat_list(items: int) -> str:
    return "[" + ",".join("0" * items) + "]"


def test_the_expanded_size_limit_counts_the_list_and_each_value() -> None:
    assert len(load(_flat_list(MAX_EXPANDED_NODES - 1))) == MAX_EXPANDED_NODES - 1  # the list itself is the last
    with pytest.raises(YamlLimitError, match=f"more than {MAX_EXPANDED_NODES:,} values"):
        load(_flat_list(MAX_EXPANDED_NODES))


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    with pytest.raises(YamlLimitError) as refused:
        load("\n".join(levels) + "\n")
    assert refused.value.problem_mark is not None
    # a0 holds 10 values and each level 1 + 9 × the one before: a4 = 66,430, a5 = 597,871, the first one refused
    assert refused.value.problem_mark.line == 5


def test_a_shared_node_is_counted_each_time_it_is_used_but_walked_once() -> None:
    def text(uses: int) -> str:
        return "base: &b " + _flat_list(1000) + "\nuses: [" + ", ".join(["*b"] * uses) + "]\n"

    assert len(load(text(198))["uses"]) == 198  # 1 + 2 keys + 199 × 1,001 + 1 = 199,203 values: under the limit
    with pytest.raises(YamlLimitError):
        load(text(199))  # 200,204


def test_nesting_is_limited_to_its_depth() -> None:
    assert load("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(YamlLimitError, match=f"more than {MAX_DEPTH} levels") as refused:
        load("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert refused.value.problem_mark is not None and refused.value.problem_mark.column == MAX_DEPTH


def test_a_node_that_contains_itself_is_refused() -> None:
    with pytest.raises(YamlLimitError) as refused:
        load("rules:\n  - &a [x, *a]\n")
    assert refused.value.problem == "an alias refers to a node that contains it"
    assert refused.value.problem_mark is not None and refused.value.problem_mark.line == 1


def test_the_node_tree_keeps_its_marks_and_the_data_is_built_safely() -> None:
    node, data = compose_and_construct("rules:\n  - id: A\n    when: {x: 1}\n")
    assert data == {"rules": [{"id": "A", "when": {"x": 1}}]}
    assert node is not None and node.value[0][1].start_mark.line == 1
    assert compose_and_construct("") == (None, None)
    assert compose_and_construct("# only a comment\n") == (None, None)
    with pytest.raises(yaml.constructor.ConstructorError):
        load("!!python/object/apply:os.system ['true']")
