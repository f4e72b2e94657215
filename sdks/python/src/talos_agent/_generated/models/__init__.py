"""Contains all the data models used in inputs/outputs"""

from .ack_messages_body import AckMessagesBody
from .add_attestation_body import AddAttestationBody
from .agent_card_response_200 import AgentCardResponse200
from .answer import Answer
from .answer_calls_body import AnswerCallsBody
from .answer_calls_body_answers_item import AnswerCallsBodyAnswersItem
from .approval_ask import ApprovalAsk
from .approval_given import ApprovalGiven
from .approval_list import ApprovalList
from .attestation import Attestation
from .attestation_claims import AttestationClaims
from .attestations import Attestations
from .batch_answered import BatchAnswered
from .batch_sent import BatchSent
from .budget import Budget
from .budget_mode import BudgetMode
from .budgets import Budgets
from .budgets_budgets_item import BudgetsBudgetsItem
from .call import Call
from .call_args import CallArgs
from .call_txn import CallTxn
from .call_txn_chain_item import CallTxnChainItem
from .calls import Calls
from .capability import Capability
from .capability_cav import CapabilityCav
from .capability_cav_apv import CapabilityCavApv
from .capability_cav_att import CapabilityCavAtt
from .capability_cav_att_clm import CapabilityCavAttClm
from .capability_cav_eq import CapabilityCavEq
from .capability_cav_max import CapabilityCavMax
from .capability_cav_pfx import CapabilityCavPfx
from .checkpoint import Checkpoint
from .consistency_proof import ConsistencyProof
from .delegate_capability_body import DelegateCapabilityBody
from .deleted import Deleted
from .event import Event
from .event_event import EventEvent
from .events import Events
from .file_report import FileReport
from .file_report_kind import FileReportKind
from .get_peer_attestations_response_200 import GetPeerAttestationsResponse200
from .get_peer_attestations_response_200_attestations_item import (
    GetPeerAttestationsResponse200AttestationsItem,
)
from .head import Head
from .inbox import Inbox
from .inclusion_proof import InclusionProof
from .invite_member_body import InviteMemberBody
from .invoke import Invoke
from .invoke_args import InvokeArgs
from .invoke_result import InvokeResult
from .invoke_txn import InvokeTxn
from .issue_capability_body import IssueCapabilityBody
from .issued import Issued
from .item_error import ItemError
from .message import Message
from .node_info import NodeInfo
from .peer_card_response_200 import PeerCardResponse200
from .peer_invoke import PeerInvoke
from .peer_invoke_args import PeerInvokeArgs
from .peer_invoke_txn import PeerInvokeTxn
from .peers import Peers
from .problem import Problem
from .published import Published
from .report_filed import ReportFiled
from .report_filed_kind import ReportFiledKind
from .reputation import Reputation
from .revoke_capability_body import RevokeCapabilityBody
from .revoked import Revoked
from .send import Send
from .send_group_message_body import SendGroupMessageBody
from .send_messages_body import SendMessagesBody
from .sent import Sent
from .sessions import Sessions
from .sessions_sessions_item import SessionsSessionsItem
from .transactions import Transactions
from .transactions_transactions_item import TransactionsTransactionsItem
from .transactions_transactions_item_txn import TransactionsTransactionsItemTxn

__all__ = (
    "AckMessagesBody",
    "AddAttestationBody",
    "AgentCardResponse200",
    "Answer",
    "AnswerCallsBody",
    "AnswerCallsBodyAnswersItem",
    "ApprovalAsk",
    "ApprovalGiven",
    "ApprovalList",
    "Attestation",
    "AttestationClaims",
    "Attestations",
    "BatchAnswered",
    "BatchSent",
    "Budget",
    "BudgetMode",
    "Budgets",
    "BudgetsBudgetsItem",
    "Call",
    "CallArgs",
    "CallTxn",
    "CallTxnChainItem",
    "Calls",
    "Capability",
    "CapabilityCav",
    "CapabilityCavApv",
    "CapabilityCavAtt",
    "CapabilityCavAttClm",
    "CapabilityCavEq",
    "CapabilityCavMax",
    "CapabilityCavPfx",
    "Checkpoint",
    "ConsistencyProof",
    "DelegateCapabilityBody",
    "Deleted",
    "Event",
    "EventEvent",
    "Events",
    "FileReport",
    "FileReportKind",
    "GetPeerAttestationsResponse200",
    "GetPeerAttestationsResponse200AttestationsItem",
    "Head",
    "Inbox",
    "InclusionProof",
    "InviteMemberBody",
    "Invoke",
    "InvokeArgs",
    "InvokeResult",
    "InvokeTxn",
    "IssueCapabilityBody",
    "Issued",
    "ItemError",
    "Message",
    "NodeInfo",
    "PeerCardResponse200",
    "PeerInvoke",
    "PeerInvokeArgs",
    "PeerInvokeTxn",
    "Peers",
    "Problem",
    "Published",
    "ReportFiled",
    "ReportFiledKind",
    "Reputation",
    "RevokeCapabilityBody",
    "Revoked",
    "Send",
    "SendGroupMessageBody",
    "SendMessagesBody",
    "Sent",
    "Sessions",
    "SessionsSessionsItem",
    "Transactions",
    "TransactionsTransactionsItem",
    "TransactionsTransactionsItemTxn",
)
