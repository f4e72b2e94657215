from enum import StrEnum


class BudgetMode(StrEnum):
    HARD = "hard"
    WARN = "warn"

    def __str__(self) -> str:
        return str(self.value)
