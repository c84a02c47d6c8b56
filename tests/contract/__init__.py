"""The contract suite: every registered model, every entry point (see test_matrix.py)."""

import pytest

# the shared checks live in helpers.py: let pytest explain their failed asserts too
pytest.register_assert_rewrite("tests.contract.helpers")
