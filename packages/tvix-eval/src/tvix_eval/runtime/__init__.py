"""The run-time side of evaluation: value representation (``values``), operations on values
(``ops``: calling, equality, ordering, coercion), printing (``printer``), errors (``errors``) and
the per-evaluation state (``context``)."""
