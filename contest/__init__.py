"""ท้องถิ่นดิจิทัล — the contest application shell and the contest domain."""
