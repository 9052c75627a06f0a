// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

interface IRootRegistry {
    function roots(uint256 batchId) external view returns (bytes32);
}

/// @title Lockbox
/// @notice Source-chain escrow of the bridge. Users lock any ERC-20 here
///         (the relayer then mints on the execution chain); withdrawals come
///         back through `release`, proven against a Merkle root that the
///         relayer anchored in the RootRegistry.
/// @dev Leaf = keccak256(bytes.concat(keccak256(abi.encode(withdrawalId,
///      token, recipient, amount)))), i.e. OpenZeppelin StandardMerkleTree
///      with leaf types ["uint256","address","address","uint256"].
contract Lockbox {
    using SafeERC20 for IERC20;

    error ZeroAmount();
    error ZeroRecipient();
    error UnknownBatch(uint256 batchId);
    error InvalidProof(uint256 batchId, uint256 withdrawalId);
    error AlreadyReleased(uint256 withdrawalId);

    event Locked(
        uint256 indexed nonce, address indexed token, address indexed depositor, address recipient, uint256 amount
    );
    event Released(
        uint256 indexed batchId, uint256 indexed withdrawalId, address indexed token, address recipient, uint256 amount
    );

    address public immutable registry;
    uint256 public depositNonce;
    mapping(uint256 withdrawalId => bool) public released;

    constructor(address registry_) {
        registry = registry_;
    }

    function lock(address token, uint256 amount, address recipient) external returns (uint256 nonce) {
        if (amount == 0) revert ZeroAmount();
        if (recipient == address(0)) revert ZeroRecipient();
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        nonce = ++depositNonce;
        emit Locked(nonce, token, msg.sender, recipient, amount);
    }

    function release(
        uint256 batchId,
        uint256 withdrawalId,
        address token,
        address recipient,
        uint256 amount,
        bytes32[] calldata proof
    ) external {
        bytes32 root = IRootRegistry(registry).roots(batchId);
        if (root == bytes32(0)) revert UnknownBatch(batchId);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(withdrawalId, token, recipient, amount))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof(batchId, withdrawalId);
        if (released[withdrawalId]) revert AlreadyReleased(withdrawalId);
        released[withdrawalId] = true;
        IERC20(token).safeTransfer(recipient, amount);
        emit Released(batchId, withdrawalId, token, recipient, amount);
    }
}
