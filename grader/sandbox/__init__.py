"""Everything that runs student code, behind one entry point: `process.Sandbox` owns the worker
slots (a sandbox uid and a zygote each), the cgroups and the limits, and starts student
processes; `student.Student` turns calls of a submission's functions into values or a
StudentError (also in-process, for self-checks, through `student.InProcess`)."""
