"""SSM: where the model's limit is answered with another error than the model's."""
from mylearning.emulator.fidelity.validation.overrides import DROP, Override

OVERRIDES = (
    # "A parameter version can have a maximum of ten labels": AWS answers the eleventh with
    # ParameterVersionLabelLimitExceeded, not a validation error, so the model's max of 10
    # is left to the service's own rule.
    Override("LabelParameterVersionRequest", "Labels",
             "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_LabelParameterVersion.html",
             {"max": DROP}),
)
