// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BridgedToken
/// @notice Execution-chain representation of SIGIL ("Bridged Sigil", bSIGIL,
///         18 decimals). Only the relayer (`minter`) mints, naming the source
///         deposit nonce; any holder burns to withdraw back to the source chain.
contract BridgedToken is ERC20 {
    error NotMinter(address caller);
    error ZeroAmount();
    error ZeroRecipient();

    event Minted(address indexed to, uint256 amount, uint256 indexed depositNonce);
    event Burned(uint256 indexed nonce, address indexed from, address recipient, uint256 amount);

    address public immutable minter;
    uint256 public burnNonce;

    constructor(address minter_) ERC20("Bridged Sigil", "bSIGIL") {
        minter = minter_;
    }

    function mint(address to, uint256 amount, uint256 depositNonce) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
        emit Minted(to, amount, depositNonce);
    }

    /// @param recipient address on the source chain that will receive the released tokens
    function burn(uint256 amount, address recipient) external returns (uint256 nonce) {
        if (amount == 0) revert ZeroAmount();
        if (recipient == address(0)) revert ZeroRecipient();
        _burn(msg.sender, amount);
        nonce = ++burnNonce;
        emit Burned(nonce, msg.sender, recipient, amount);
    }
}
