"""The flagging rules and the environment settings, without any AWS around them."""

from __future__ import annotations

import pytest
from flagger.config import DEFAULT_RETRAIN_TABLE, ConfigError, FlaggerConfig
from flagger.rules import LOW_CONFIDENCE, MISCLASSIFIED, flag_reasons


@pytest.mark.parametrize(
    ("predicted", "actual", "probability", "expected"),
    [
        ("setosa", "setosa", 0.99, []),
        ("setosa", "setosa", 0.9, []),
        ("setosa", "setosa", 0.8999, [LOW_CONFIDENCE]),
        ("setosa", "virginica", 1.0, [MISCLASSIFIED]),
        ("setosa", "virginica", 0.2, [MISCLASSIFIED, LOW_CONFIDENCE]),
    ],
)
def test_flag_reasons(predicted, actual, probability, expected):
    assert flag_reasons(predicted, actual, probability, 0.9) == expected


def test_defaults_follow_the_contract():
    config = FlaggerConfig.from_env({})
    assert config == FlaggerConfig(retrain_table=DEFAULT_RETRAIN_TABLE, threshold=0.9)
    assert config.retrain_table == "IrisExtendedRetrain"


def test_env_values_are_read():
    config = FlaggerConfig.from_env({"RETRAIN_TABLE": "Other", "CONFIDENCE_THRESHOLD": " 0.75 "})
    assert config == FlaggerConfig(retrain_table="Other", threshold=0.75)


@pytest.mark.parametrize("raw", ["abc", "1.5", "-0.1", "nan", "inf"])
def test_invalid_threshold_is_rejected(raw):
    with pytest.raises(ConfigError, match="CONFIDENCE_THRESHOLD"):
        FlaggerConfig.from_env({"CONFIDENCE_THRESHOLD": raw})
