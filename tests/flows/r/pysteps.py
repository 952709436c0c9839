"""Python steps of the R flows in this folder."""

import numpy as np
import pandas as pd

from headwater.serde.robject import RObject


def bounce(self):
    """Read the R values in Python, note their Python types, and store them again as Python
    values (a new dict: pickled, not the R step's blobs)."""
    values = self.values
    self.py_types = {name: type(value).__name__ for name, value in values.items()}
    frame = values["frame"]
    self.frame_dtypes = {col: str(dtype) for col, dtype in frame.dtypes.items()}
    assert isinstance(values["model"], RObject)
    assert isinstance(values["dbl"], np.ndarray) and values["dbl"].dtype == np.float64
    assert isinstance(frame, pd.DataFrame)
    self.values_py = dict(values)


def train(self):
    """A Python step in an R flow: reads an R data frame as pandas, returns one."""
    df = self.df
    self.total = float(df["x"].sum())
    self.summary = pd.DataFrame({"n": [len(df)], "mean": [df["x"].mean()]})
