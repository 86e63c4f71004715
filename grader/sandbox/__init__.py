"""Everything that runs student code: zygotes, isolation, the student server, the wire format and
limits. Code outside this package uses `Student` (call / call_many -> value or StudentError)."""
