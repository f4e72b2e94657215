// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {TalosAnchor} from "../src/TalosAnchor.sol";
import {Test} from "./utils/Test.sol";

contract TalosAnchorTest is Test {
    TalosAnchor internal a;
    address internal constant ADMIN = address(0xAD);
    uint256 internal constant ALICE_KEY = 0xA11CE;
    address internal alice;
    address internal constant BOB = address(0xB0B);
    bytes32 internal constant DID = keccak256("did:key:z6MkAlice");

    event RootAnchored(bytes32 indexed did, uint256 treeSize, bytes32 root);
    event Revoked(bytes32 indexed did, bytes32[] ids);

    function setUp() public {
        a = new TalosAnchor(ADMIN, false);
        alice = vm.addr(ALICE_KEY);
        vm.prank(alice);
        a.register(DID, keccak256("doc v1"));
    }

    function ids(uint256 n, uint256 salt) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            out[i] = keccak256(abi.encode(salt, i));
        }
    }

    // ------------------------------------------------------------ DID registry

    function test_register_resolve_rotate_deactivate() public {
        (address owner, uint32 version, bytes32 doc, bytes32 prev, bool off) = a.resolve(DID);
        assertEq(owner, alice, "owner");
        assertEq(version, 1, "version");
        assertEq(doc, keccak256("doc v1"), "doc");
        assertEq(prev, bytes32(0), "prev");
        assertTrue(!off, "active");
        vm.prank(alice);
        a.rotate(DID, keccak256("doc v2"), BOB);
        (owner, version, doc, prev,) = a.resolve(DID);
        assertEq(owner, BOB, "new owner");
        assertEq(version, 2, "version 2");
        assertEq(prev, keccak256("doc v1"), "prev hash chains");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotOwner.selector, DID, alice));
        a.rotate(DID, keccak256("doc v3"), alice);
        vm.prank(BOB);
        a.deactivate(DID);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.Deactivated.selector, DID));
        a.anchorRoot(DID, 1, keccak256("r1"));
    }

    function test_register_twice_and_unknown_did() public {
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.DidExists.selector, DID));
        a.register(DID, bytes32(0));
        bytes32 unknown = keccak256("nobody");
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.UnknownDid.selector, unknown));
        a.anchorRoot(unknown, 1, bytes32(uint256(1)));
    }

    // ------------------------------------------------------------ commitments, revocations

    function test_commit_and_revoke_single_and_batch() public {
        vm.startPrank(alice);
        a.commit(DID, ids(1, 1));
        a.commit(DID, ids(100, 2));
        bytes32[] memory r = ids(100, 3);
        vm.expectEmit(true, false, false, true);
        emit Revoked(DID, r);
        a.revoke(DID, r);
        a.revoke(DID, r); // idempotent
        vm.stopPrank();
        assertEq(a.committedBy(ids(100, 2)[99]), DID, "committed");
        (uint256 none, bytes32 noRoot) = a.latestRoot(DID);
        assertEq(none, 0, "no root yet");
        assertEq(noRoot, bytes32(0), "no root yet");
        assertEq(a.revokedBy(r[42]), DID, "revoked");
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotOwner.selector, DID, BOB));
        a.revoke(DID, r);
        vm.prank(alice);
        vm.expectRevert(TalosAnchor.EmptyBatch.selector);
        a.revoke(DID, new bytes32[](0));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.BatchTooLarge.selector, 513));
        a.commit(DID, ids(513, 4));
    }

    // ------------------------------------------------------------ audit roots

    function test_anchor_root_is_monotonic_and_idempotent() public {
        vm.startPrank(alice);
        vm.expectEmit(true, false, false, true);
        emit RootAnchored(DID, 10, bytes32(uint256(10)));
        a.anchorRoot(DID, 10, bytes32(uint256(10)));
        a.anchorRoot(DID, 10, bytes32(uint256(10))); // same head again: no-op
        a.anchorRoot(DID, 20, bytes32(uint256(20)));
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.TreeSizeShrinks.selector, DID, 20, 19));
        a.anchorRoot(DID, 19, bytes32(uint256(19)));
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.ConflictingRoot.selector, DID, 20));
        a.anchorRoot(DID, 20, bytes32(uint256(21)));
        vm.stopPrank();
        (uint256 size, bytes32 root) = a.latestRoot(DID);
        assertEq(size, 20, "latest size");
        assertEq(root, bytes32(uint256(20)), "latest root");
        vm.expectRevert(TalosAnchor.InvalidRoot.selector);
        vm.prank(alice);
        a.anchorRoot(DID, 30, bytes32(uint256(1)));
    }

    function testFuzz_tree_size_never_shrinks(uint256 s1, uint256 s2) public {
        s1 = bound(s1, 1, type(uint56).max);
        s2 = bound(s2, 1, type(uint56).max);
        vm.assume(s1 != s2);
        vm.startPrank(alice);
        a.anchorRoot(DID, s1, keccak256(abi.encode(s1)));
        if (s2 < s1) {
            vm.expectRevert(abi.encodeWithSelector(TalosAnchor.TreeSizeShrinks.selector, DID, s1, s2));
        }
        a.anchorRoot(DID, s2, keccak256(abi.encode(s2)));
        vm.stopPrank();
        (uint256 size,) = a.latestRoot(DID);
        assertEq(size, s2 >= s1 ? s2 : s1, "size is the max");
    }

    function testFuzz_only_owner_writes(address caller, bytes32 x) public {
        vm.assume(caller != alice && caller != address(a));
        vm.startPrank(caller);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotOwner.selector, DID, caller));
        a.anchorRoot(DID, 1, x);
        bytes32[] memory one = new bytes32[](1);
        one[0] = x;
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotOwner.selector, DID, caller));
        a.revoke(DID, one);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotOwner.selector, DID, caller));
        a.commit(DID, one);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotOwner.selector, DID, caller));
        a.rotate(DID, x, caller);
        vm.stopPrank();
    }

    function testFuzz_revocation_is_permanent(bytes32 id, uint256 n) public {
        vm.assume(id != bytes32(0));
        bytes32[] memory one = new bytes32[](1);
        one[0] = id;
        vm.prank(alice);
        a.revoke(DID, one);
        n = bound(n, 0, 5);
        for (uint256 i; i < n; ++i) {
            vm.prank(alice);
            a.rotate(DID, keccak256(abi.encode(i)), alice);
        }
        assertEq(a.revokedBy(id), DID, "still revoked");
    }

    // ------------------------------------------------------------ allow-list

    function test_allow_list() public {
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotAdmin.selector, BOB));
        a.setAllowList(true);
        vm.prank(ADMIN);
        a.setAllowList(true);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotWriter.selector, alice));
        a.anchorRoot(DID, 1, keccak256("r1"));
        vm.prank(ADMIN);
        a.setWriter(alice, true);
        vm.prank(alice);
        a.anchorRoot(DID, 1, keccak256("r1"));
    }

    // ------------------------------------------------------------ meta-transactions

    function signMeta(uint256 key, bytes memory data, uint256 nonce, uint256 deadline)
        internal
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        return vm.sign(key, a.metaTxDigest(vm.addr(key), data, nonce, deadline));
    }

    function test_meta_transaction_relayed_and_replay_fails() public {
        bytes memory data = abi.encodeCall(TalosAnchor.anchorRoot, (DID, 5, bytes32(uint256(5))));
        uint256 deadline = block.timestamp + 60;
        (uint8 v, bytes32 r, bytes32 s) = signMeta(ALICE_KEY, data, 0, deadline);
        vm.prank(BOB); // the relayer pays; alice holds no gas
        a.executeMeta(alice, data, 0, deadline, v, r, s);
        (uint256 size,) = a.latestRoot(DID);
        assertEq(size, 5, "anchored through the relayer");
        assertEq(a.nonces(alice), 1, "nonce used");
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.BadNonce.selector, 1, 0));
        a.executeMeta(alice, data, 0, deadline, v, r, s);
    }

    function test_meta_transaction_rejections() public {
        bytes memory data = abi.encodeCall(TalosAnchor.anchorRoot, (DID, 5, bytes32(uint256(5))));
        uint256 deadline = block.timestamp + 60;
        (uint8 v, bytes32 r, bytes32 s) = signMeta(ALICE_KEY, data, 0, deadline);
        // High-s twin of a valid signature.
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes32 highS = bytes32(n - uint256(s));
        uint8 flipped = v == 27 ? 28 : 27;
        vm.expectRevert(TalosAnchor.MalleableSignature.selector);
        a.executeMeta(alice, data, 0, deadline, flipped, r, highS);
        // Someone else's signature for alice.
        (v, r, s) = signMeta(0xBAD, data, 0, deadline);
        vm.expectRevert(TalosAnchor.BadSignature.selector);
        a.executeMeta(alice, data, 0, deadline, v, r, s);
        // Past the deadline.
        (v, r, s) = signMeta(ALICE_KEY, data, 0, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.Expired.selector, deadline));
        a.executeMeta(alice, data, 0, deadline, v, r, s);
        // Another chain id changes the domain: the signature no longer verifies.
        vm.warp(deadline - 1);
        vm.chainId(999);
        vm.expectRevert(TalosAnchor.BadSignature.selector);
        a.executeMeta(alice, data, 0, deadline, v, r, s);
    }

    function test_meta_transaction_bubbles_inner_errors() public {
        bytes memory data = abi.encodeCall(TalosAnchor.anchorRoot, (DID, 0, bytes32(uint256(1))));
        vm.prank(alice);
        a.anchorRoot(DID, 3, bytes32(uint256(3)));
        data = abi.encodeCall(TalosAnchor.anchorRoot, (DID, 2, bytes32(uint256(2))));
        uint256 deadline = block.timestamp + 60;
        (uint8 v, bytes32 r, bytes32 s) = signMeta(ALICE_KEY, data, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.TreeSizeShrinks.selector, DID, 3, 2));
        a.executeMeta(alice, data, 0, deadline, v, r, s);
    }

    // ------------------------------------------------------------ gas (see the gas report)

    function test_gas_anchor_root() public {
        vm.startPrank(alice);
        a.anchorRoot(DID, 1, keccak256("root 1"));
        a.anchorRoot(DID, 2, keccak256("root 2"));
        vm.stopPrank();
    }

    function test_gas_batch_of_100() public {
        vm.startPrank(alice);
        a.revoke(DID, ids(100, 7));
        a.commit(DID, ids(100, 8));
        vm.stopPrank();
    }
}
