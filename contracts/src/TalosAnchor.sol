// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title TalosAnchor
/// @notice The talos trust anchor on an EVM chain: a DID registry, capability commitments,
/// permanent revocations and per-DID audit roots (RFC 9162 tree heads), each with an event.
/// Only a DID's owner writes for that DID; a consortium may also restrict writers to an
/// allow-list. Owners without gas sign EIP-712 meta-transactions that anyone relays.
/// @dev DIDs are keyed by `bytes32 did = sha256(did string)`, computed off-chain. The
/// document's Ed25519 self-signature is checked off-chain by resolvers: the EVM has no
/// cheap Ed25519. Meta-transactions follow ERC-2771: the contract calls itself with the
/// signer appended to the calldata.
contract TalosAnchor {
    /// @dev One slot per DID, so an audit-root anchor touches a single cold slot:
    /// owner (20 bytes) | version (4) | treeSize (7) | deactivated (1).
    struct DidEntry {
        address owner;
        uint32 version;
        uint56 treeSize;
        bool deactivated;
    }

    struct DidDocument {
        bytes32 docHash;
        bytes32 prevHash;
    }

    bytes32 private constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant META_TX_TYPEHASH =
        keccak256("MetaTransaction(address signer,bytes data,uint256 nonce,uint256 deadline)");
    bytes32 private constant NAME_HASH = keccak256("TalosAnchor");
    bytes32 private constant VERSION_HASH = keccak256("1");
    /// @dev secp256k1n / 2: signatures with a larger s are the malleable twin (EIP-2).
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    /// @dev Batches are bounded so that one call stays well inside a block.
    uint256 public constant MAX_BATCH = 512;

    mapping(bytes32 did => DidEntry) private _dids;
    mapping(bytes32 did => DidDocument) private _docs;
    /// @dev The latest anchored root per DID. Earlier roots live in `RootAnchored` events
    /// (in the chain's receipts): a storage slot per anchor would cost 20k gas more each.
    /// Registration stores `NO_ROOT` here so that every anchor, the first included,
    /// rewrites a warm-able non-zero slot instead of creating one.
    mapping(bytes32 did => bytes32 root) private _latestRoot;
    bytes32 private constant NO_ROOT = bytes32(uint256(1));
    /// @notice The DID that committed a capability commitment (zero if none).
    mapping(bytes32 commitment => bytes32 did) public committedBy;
    /// @notice The DID that revoked a capability id (zero if not revoked). Permanent.
    mapping(bytes32 id => bytes32 did) public revokedBy;
    /// @notice EIP-712 meta-transaction nonces, per signer.
    mapping(address signer => uint256) public nonces;
    /// @notice Writers allowed when the allow-list is on.
    mapping(address writer => bool) public isWriter;

    /// @notice The consortium administrator (manages the allow-list only).
    address public admin;
    /// @notice Whether only allow-listed accounts may write.
    bool public allowListEnabled;

    event DidRegistered(bytes32 indexed did, address indexed owner, bytes32 docHash);
    event DidRotated(bytes32 indexed did, uint32 version, bytes32 docHash, bytes32 prevHash, address indexed owner);
    event DidDeactivated(bytes32 indexed did, uint32 version);
    event Committed(bytes32 indexed did, bytes32[] commitments);
    event Revoked(bytes32 indexed did, bytes32[] ids);
    event RootAnchored(bytes32 indexed did, uint256 treeSize, bytes32 root);
    event WriterSet(address indexed writer, bool allowed);
    event AllowListSet(bool enabled);
    event AdminTransferred(address indexed admin);

    error DidExists(bytes32 did);
    error UnknownDid(bytes32 did);
    error NotOwner(bytes32 did, address sender);
    error Deactivated(bytes32 did);
    error NotWriter(address sender);
    error NotAdmin(address sender);
    error ZeroAddress();
    error EmptyBatch();
    error BatchTooLarge(uint256 len);
    error TreeSizeShrinks(bytes32 did, uint256 current, uint256 given);
    error ConflictingRoot(bytes32 did, uint256 treeSize);
    error TreeSizeTooLarge(uint256 given);
    error InvalidRoot();
    error Expired(uint256 deadline);
    error BadNonce(uint256 expected, uint256 given);
    error BadSignature();
    error MalleableSignature();
    error MetaCallFailed();

    constructor(address admin_, bool allowList_) {
        if (admin_ == address(0)) revert ZeroAddress();
        admin = admin_;
        allowListEnabled = allowList_;
        emit AdminTransferred(admin_);
        emit AllowListSet(allowList_);
    }

    // ---------------------------------------------------------------- senders and access

    /// @dev ERC-2771: when the contract calls itself from `executeMeta`, the verified
    /// signer is the last 20 bytes of the calldata.
    function _sender() internal view returns (address s) {
        if (msg.sender == address(this) && msg.data.length >= 24) {
            assembly {
                s := shr(96, calldataload(sub(calldatasize(), 20)))
            }
        } else {
            s = msg.sender;
        }
    }

    function _checkWriter(address s) internal view {
        if (allowListEnabled && !isWriter[s]) revert NotWriter(s);
    }

    /// @dev Loads a DID the sender owns and that is still active.
    function _owned(bytes32 did) internal view returns (DidEntry memory e, address s) {
        s = _sender();
        e = _dids[did];
        if (e.owner == address(0)) revert UnknownDid(did);
        if (e.owner != s) revert NotOwner(did, s);
        if (e.deactivated) revert Deactivated(did);
        _checkWriter(s);
    }

    // ---------------------------------------------------------------- DID registry

    /// @notice Registers `did` at version 1, owned by the sender.
    function register(bytes32 did, bytes32 docHash) external {
        address s = _sender();
        _checkWriter(s);
        if (_dids[did].owner != address(0)) revert DidExists(did);
        _dids[did] = DidEntry({owner: s, version: 1, treeSize: 0, deactivated: false});
        _docs[did] = DidDocument({docHash: docHash, prevHash: bytes32(0)});
        _latestRoot[did] = NO_ROOT;
        emit DidRegistered(did, s, docHash);
    }

    /// @notice A new document version (and possibly a new owner account). The new
    /// version's `prevHash` is the current document hash.
    function rotate(bytes32 did, bytes32 newDocHash, address newOwner) external {
        (DidEntry memory e,) = _owned(did);
        if (newOwner == address(0)) revert ZeroAddress();
        bytes32 prev = _docs[did].docHash;
        e.version += 1;
        e.owner = newOwner;
        _dids[did] = e;
        _docs[did] = DidDocument({docHash: newDocHash, prevHash: prev});
        emit DidRotated(did, e.version, newDocHash, prev, newOwner);
    }

    /// @notice Deactivates `did`: it takes no further writes.
    function deactivate(bytes32 did) external {
        (DidEntry memory e,) = _owned(did);
        e.deactivated = true;
        _dids[did] = e;
        emit DidDeactivated(did, e.version);
    }

    /// @notice The registry record of `did` (zero owner if unknown).
    function resolve(bytes32 did)
        external
        view
        returns (address owner, uint32 version, bytes32 docHash, bytes32 prevHash, bool deactivated)
    {
        DidEntry memory e = _dids[did];
        DidDocument memory d = _docs[did];
        return (e.owner, e.version, d.docHash, d.prevHash, e.deactivated);
    }

    // ---------------------------------------------------------------- commitments, revocations

    /// @notice Records capability commitments issued under `did`. Already-recorded ones are
    /// skipped, so a resubmitted batch is harmless.
    function commit(bytes32 did, bytes32[] calldata commitments) external {
        _owned(did);
        _checkBatch(commitments.length);
        for (uint256 i; i < commitments.length; ++i) {
            bytes32 c = commitments[i];
            if (committedBy[c] == bytes32(0)) committedBy[c] = did;
        }
        emit Committed(did, commitments);
    }

    /// @notice Revokes capability ids, permanently: nothing unsets `revokedBy`.
    function revoke(bytes32 did, bytes32[] calldata ids) external {
        _owned(did);
        _checkBatch(ids.length);
        for (uint256 i; i < ids.length; ++i) {
            bytes32 id = ids[i];
            if (revokedBy[id] == bytes32(0)) revokedBy[id] = did;
        }
        emit Revoked(did, ids);
    }

    function _checkBatch(uint256 len) internal pure {
        if (len == 0) revert EmptyBatch();
        if (len > MAX_BATCH) revert BatchTooLarge(len);
    }

    // ---------------------------------------------------------------- audit roots

    /// @notice Anchors the audit-log tree head (`treeSize`, `root`) of `did`. The size
    /// never shrinks; re-anchoring the latest head is a no-op (idempotent resubmission); a
    /// different root at the latest size is refused. History: the `RootAnchored` events.
    function anchorRoot(bytes32 did, uint256 treeSize, bytes32 root) external {
        (DidEntry memory e,) = _owned(did);
        if (root == bytes32(0) || root == NO_ROOT) revert InvalidRoot();
        if (treeSize > type(uint56).max) revert TreeSizeTooLarge(treeSize);
        if (treeSize < e.treeSize) revert TreeSizeShrinks(did, e.treeSize, treeSize);
        if (treeSize == e.treeSize) {
            bytes32 latest = _latestRoot[did];
            if (latest == root) return;
            if (latest != NO_ROOT) revert ConflictingRoot(did, treeSize);
        }
        _latestRoot[did] = root;
        // forge-lint: disable-next-line(unsafe-typecast)
        e.treeSize = uint56(treeSize); // checked against type(uint56).max above
        _dids[did] = e;
        emit RootAnchored(did, treeSize, root);
    }

    /// @notice The latest anchored tree head of `did`; (0, 0) before the first anchor.
    function latestRoot(bytes32 did) external view returns (uint256 treeSize, bytes32 root) {
        root = _latestRoot[did];
        if (root == NO_ROOT) return (0, bytes32(0));
        treeSize = _dids[did].treeSize;
    }

    // ---------------------------------------------------------------- allow-list admin

    function _onlyAdmin() internal view {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
    }

    /// @notice Adds or removes an allow-listed writer.
    function setWriter(address writer, bool allowed) external {
        _onlyAdmin();
        isWriter[writer] = allowed;
        emit WriterSet(writer, allowed);
    }

    /// @notice Turns the allow-list on or off.
    function setAllowList(bool enabled) external {
        _onlyAdmin();
        allowListEnabled = enabled;
        emit AllowListSet(enabled);
    }

    /// @notice Hands the admin role to another account.
    function transferAdmin(address next) external {
        _onlyAdmin();
        if (next == address(0)) revert ZeroAddress();
        admin = next;
        emit AdminTransferred(next);
    }

    // ---------------------------------------------------------------- EIP-712 meta-transactions

    /// @notice The EIP-712 domain separator (chain id and this contract's address included).
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(EIP712_DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @notice The digest a signer signs for a meta-transaction.
    function metaTxDigest(address signer, bytes calldata data, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(META_TX_TYPEHASH, signer, keccak256(data), nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// @notice Runs `data` (a call to one of this contract's write functions) as `signer`,
    /// who signed it; anyone may relay. The nonce must be the signer's next one.
    function executeMeta(
        address signer,
        bytes calldata data,
        uint256 nonce,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > deadline) revert Expired(deadline); // deadlines are coarse
        uint256 expected = nonces[signer];
        if (nonce != expected) revert BadNonce(expected, nonce);
        if (uint256(s) > HALF_ORDER) revert MalleableSignature();
        if (v != 27 && v != 28) revert BadSignature();
        address recovered = ecrecover(metaTxDigest(signer, data, nonce, deadline), v, r, s);
        if (recovered == address(0) || recovered != signer) revert BadSignature();
        nonces[signer] = expected + 1;
        (bool ok, bytes memory ret) = address(this).call(abi.encodePacked(data, signer));
        if (!ok) {
            // Bubble the inner custom error up unchanged, so callers see the real reason.
            if (ret.length == 0) revert MetaCallFailed();
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}
