from enum import StrEnum


class ReportFiledKind(StrEnum):
    BAD_ANSWER = "bad_answer"
    BROKEN_ATTESTATION = "broken_attestation"
    OPERATOR_REPORT = "operator_report"
    PROTOCOL_VIOLATION = "protocol_violation"
    REFUSED_STORM = "refused_storm"

    def __str__(self) -> str:
        return str(self.value)
