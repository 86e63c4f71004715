"""What instructors and students touch: submissions, batches, reports, self-checks, nbgrader."""
