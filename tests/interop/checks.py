"""Pass/fail bookkeeping shared by the interop tests.

check() records and prints one line per check (failures always; passes unless quiet); summary()
prints the count and returns the script's exit code (1 when any check failed).
"""

PASSES = [0]
FAILURES = []


def check(cond, what, quiet=False):
    if cond:
        PASSES[0] += 1
        if not quiet:
            print("ok:", what, flush=True)
    else:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return cond


def summary():
    print("%d passed, %d failed" % (PASSES[0], len(FAILURES)))
    return 1 if FAILURES else 0
