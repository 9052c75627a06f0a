// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title SigilToken
/// @notice Source-chain test asset "Sigil" (SIGIL, 18 decimals). The whole
///         supply is minted once, to `holder`, in the constructor; there is
///         no other way to mint.
contract SigilToken is ERC20 {
    constructor(address holder, uint256 supply) ERC20("Sigil", "SIGIL") {
        _mint(holder, supply);
    }
}
