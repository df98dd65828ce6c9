"""ELBv2 ranges the API reference states and botocore's model leaves out."""
from mylearning.emulator.fidelity.validation.overrides import Override

OVERRIDES = (
    # "Weight: The weight. The range is 0 to 999."
    Override("TargetGroupTuple", "Weight",
             "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupTuple.html",
             {"min": 0, "max": 999}),
)
