"""The integration tests' .npy writer: float32 arrays in NumPy's format 1.0 (no NumPy needed).

    import sys; sys.path.insert(0, TESTS_DIR); from npy_file import write_float32
"""
import struct


def write_float32(path, shape, values):
    """Writes `values` (len = product of `shape`) as a C-ordered float32 array of `shape`."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (repr(tuple(shape)),)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(values), *values))
