"""Parameter table: values with units, bounds, variability and sources."""

from neuroadapt.parameters.table import (
    Parameter as Parameter,
)
from neuroadapt.parameters.table import (
    ParameterError as ParameterError,
)
from neuroadapt.parameters.table import (
    ParameterSet as ParameterSet,
)
from neuroadapt.parameters.table import (
    load_parameters as load_parameters,
)
from neuroadapt.parameters.table import (
    read_rows as read_rows,
)
