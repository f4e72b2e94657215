// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {TalosAnchor} from "../src/TalosAnchor.sol";
import {Test, Vm} from "./utils/Test.sol";

/// @dev Drives the anchor with random actions from owners, strangers (who may claim the
/// owners' DIDs for themselves: squatters) and relayers, and keeps ghost copies of what
/// must hold.
contract Handler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    TalosAnchor public immutable a;
    uint256[3] internal keys = [uint256(0xA1), 0xB2, 0xC3];
    bytes32[3] public dids;
    address[3] public owners;
    uint256[3] public maxSize;
    bytes32[] public revoked;
    /// What each owner revoked (the fuzzer may replay a stranger's id as an owner's).
    mapping(uint256 who => mapping(bytes32 id => bool)) public ownerRevoked;
    uint256 public replaysAccepted;
    /// Ids only strangers revoke (salted apart from the owners' ids).
    bytes32[] public strangerRevoked;

    constructor(TalosAnchor a_) {
        a = a_;
        for (uint256 i; i < 3; ++i) {
            dids[i] = keccak256(abi.encode("did", i));
            owners[i] = vm.addr(keys[i]);
            vm.prank(owners[i]);
            a.register(dids[i], keccak256(abi.encode("doc", i)), _binding(i));
        }
    }

    /// @dev 96 bytes shaped like an owner binding; the contract checks only the length.
    function _binding(uint256 salt) internal pure returns (bytes memory) {
        return
            abi.encodePacked(
                keccak256(abi.encode(salt)), keccak256(abi.encode(salt, 1)), keccak256(abi.encode(salt, 2))
            );
    }

    function anchor(uint256 who, uint256 size, bytes32 root) external {
        who %= 3;
        size %= 1 << 40;
        if (root == bytes32(0) || root == bytes32(uint256(1))) root = keccak256(abi.encode(root));
        vm.prank(owners[who]);
        try a.anchorRoot(dids[who], size, root) {
            if (size > maxSize[who]) maxSize[who] = size;
        } catch {}
    }

    function revoke(uint256 who, bytes32 id) external {
        who %= 3;
        if (id == bytes32(0)) return;
        bytes32[] memory one = new bytes32[](1);
        one[0] = id;
        vm.prank(owners[who]);
        a.revoke(dids[who], one);
        revoked.push(id);
        ownerRevoked[who][id] = true;
    }

    /// A stranger (any address but the owner) claims someone's DID for itself (if it has
    /// not yet) and makes every write there: all of it lands in its own claim.
    function strangerWrite(uint256 who, address stranger, bytes32 x) external {
        who %= 3;
        if (stranger == owners[who] || stranger == address(a)) return;
        bytes32 id = keccak256(abi.encode("stranger", x));
        bytes32[] memory one = new bytes32[](1);
        one[0] = id;
        vm.startPrank(stranger);
        try a.register(dids[who], x, _binding(uint256(x))) {} catch {}
        try a.anchorRoot(dids[who], 1 << 50, keccak256(abi.encode(x))) {} catch {}
        try a.rotate(dids[who], x) {} catch {}
        try a.commit(dids[who], one) {} catch {}
        try a.revoke(dids[who], one) {
            strangerRevoked.push(id);
        } catch {}
        try a.deactivate(dids[who]) {} catch {}
        vm.stopPrank();
    }

    /// A relayed meta-transaction, then the same one replayed.
    function relay(uint256 who, uint256 size) external {
        who %= 3;
        size = maxSize[who] + 1 + (size % 1000);
        bytes memory data = abi.encodeCall(TalosAnchor.anchorRoot, (dids[who], size, keccak256(abi.encode(size))));
        uint256 nonce = a.nonces(owners[who]);
        uint256 deadline = block.timestamp + 100;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[who], a.metaTxDigest(owners[who], data, nonce, deadline));
        a.executeMeta(owners[who], data, nonce, deadline, v, r, s);
        maxSize[who] = size;
        try a.executeMeta(owners[who], data, nonce, deadline, v, r, s) {
            replaysAccepted++;
        } catch {}
    }

    function revokedCount() external view returns (uint256) {
        return revoked.length;
    }

    function strangerRevokedCount() external view returns (uint256) {
        return strangerRevoked.length;
    }
}

contract InvariantsTest is Test {
    TalosAnchor internal a;
    Handler internal h;

    function setUp() public {
        a = new TalosAnchor(address(0xAD), false);
        h = new Handler(a);
    }

    /// Only the owner writes its claim: whatever strangers do (their own claims on the
    /// same DIDs included), the owner's claim keeps version 1, stays active, and holds
    /// none of their revocations.
    function invariant_only_owner_writes() public view {
        for (uint256 i; i < 3; ++i) {
            (uint32 version,,, bool off) = a.resolve(h.dids(i), h.owners(i));
            assertEq(version, 1, "owner's version changed");
            assertTrue(!off, "owner's claim deactivated by a stranger");
            uint256 n = h.strangerRevokedCount();
            for (uint256 j; j < n; ++j) {
                bytes32 id = h.strangerRevoked(j);
                assertTrue(
                    h.ownerRevoked(i, id) || !a.isRevoked(h.dids(i), h.owners(i), id),
                    "a stranger revoked for the owner"
                );
            }
        }
    }

    /// Revocation is permanent.
    function invariant_revocation_is_permanent() public view {
        uint256 n = h.revokedCount();
        bool found;
        for (uint256 i; i < n; ++i) {
            found = false;
            for (uint256 w; w < 3; ++w) {
                if (a.isRevoked(h.dids(w), h.owners(w), h.revoked(i))) found = true;
            }
            assertTrue(found, "revocation undone");
        }
    }

    /// The anchored tree size is the largest ever accepted: it never shrank.
    function invariant_tree_size_is_monotonic() public view {
        for (uint256 i; i < 3; ++i) {
            (uint256 size,) = a.latestRoot(h.dids(i), h.owners(i));
            assertEq(size, h.maxSize(i), "tree size is not the maximum");
        }
    }

    /// A replayed meta-transaction never succeeds.
    function invariant_meta_transaction_replay_fails() public view {
        assertEq(h.replaysAccepted(), 0, "a replay was accepted");
    }
}
