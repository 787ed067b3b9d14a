"""Evidence per test: which tests a criterion's command names (`commands`), the harness that
makes each known test runner write machine-readable results where the grading script collects
them (`harness`, with a canary test that must fail), reading those results (`junit`,
`gotest`), and the status they prove (`verdict`). docs/grading.md states the threat model."""
