// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @notice Where a grid event's notice came from.
enum GridEventSource {
    OpenAdr, // an OpenADR 2.0b event the site agent's VEN received from the VTN, signature checked
    Manual // a program that notifies by phone or e-mail (ERCOT large flexible loads): the operator attests it
}

/// @notice A grid curtailment event for one asset, as its signer attests it (EIP-712 typed data).
/// @dev It is recorded under its declaration id, keccak256(abi.encode(assetId, eventId, signer)): scoped to the
///      asset and to who declared it, so nobody can take another asset's or another signer's id first.
struct GridEvent {
    uint256 assetId;
    bytes32 eventId; // keccak256 of the program's own event id (OpenADR: "<vtnId>/<eventId>")
    GridEventSource source;
    uint64 startsAt; // unix seconds
    uint64 endsAt;
    bytes32 payloadHash; // sha-256 of the notice as received (OpenADR: the signed XML), kept as evidence
}

/// @notice A declared event, as stored (one slot).
struct StoredGridEvent {
    uint64 assetId;
    uint64 startsAt;
    uint64 endsAt;
    GridEventSource source;
}

/// @title GridLedger
/// @notice Grid curtailment events per asset, attested by the asset's agents (OpenADR) or its operator
///         (manual notices), and renewable energy certificates retired against an asset's epochs. The
///         MetricsOracle accepts curtailed time in a report only inside a declared event of the same asset.
interface IGridLedger {
    error GridUnknownAsset(uint256 assetId);
    error GridInvalidWindow(uint64 startsAt, uint64 endsAt, uint64 maxDuration);
    error GridEventExpired(bytes32 eventId, uint64 endsAt, uint64 now_);
    /// @notice The signer already declared this event for this asset.
    error GridEventExists(bytes32 declarationId);
    /// @notice An event that starts further ahead than the protocol's horizon.
    error GridEventBeyondHorizon(uint64 startsAt, uint256 latestStart);
    error GridUnauthorizedSigner(uint256 assetId, GridEventSource source, address signer);
    error GridZeroEventId();
    error GridNotOperator(uint256 assetId, address caller);
    error GridCertificateUsed(bytes32 certificateId, uint256 assetId, uint64 epoch);
    error GridInvalidCertificate(uint256 index, bytes32 certificateId, uint64 energyWh);
    error GridLengthMismatch(uint256 certificates, uint256 amounts);
    error GridInvalidCertificateCount(uint256 count, uint256 max);
    error GridOnlyMarket(address caller);

    /// @notice `declarationId` is what reports name; `eventId` is the program's event.
    event GridEventDeclared(
        uint256 indexed assetId,
        bytes32 indexed declarationId,
        bytes32 indexed eventId,
        GridEventSource source,
        uint64 startsAt,
        uint64 endsAt,
        bytes32 payloadHash,
        address signer
    );
    event CertificateRetired(
        uint256 indexed assetId, uint64 indexed epoch, bytes32 indexed certificateId, uint64 energyWh
    );

    /// @notice Records a grid event attested by `signature`: the asset's operator for a manual notice, one of
    ///         its attestors for an OpenADR event. Anyone may relay it.
    /// @dev Rejected: a window that is empty, longer than MAX_EVENT_DURATION, already over, or starting
    ///      beyond the protocol's grid event horizon; the same signer declaring the same event twice.
    ///      Declarations never block one another: each only bounds the curtailment of reports that name it.
    /// @return declarationId the id reports name: keccak256(abi.encode(assetId, eventId, signer))
    function declareEvent(GridEvent calldata ev, bytes calldata signature) external returns (bytes32 declarationId);

    /// @notice The id under which `signer`'s declaration of `eventId` for `assetId` is recorded.
    function declarationId(uint256 assetId, bytes32 eventId, address signer) external pure returns (bytes32);

    /// @notice Retires renewable certificates (e.g. REC / GO serial numbers, hashed) against an asset's epoch,
    ///         each at most once across all assets and epochs. Operator only.
    function retireCertificates(
        uint256 assetId,
        uint64 epoch,
        bytes32[] calldata certificateIds,
        uint64[] calldata energyWh
    ) external;

    /// @notice Settlement counts an epoch's curtailment against the asset's cap for its 30-day period
    ///         (from genesis). LeaseMarket only.
    /// @return period the 30-day period of the epoch
    /// @return excessSeconds curtailment past what the period's cap still allowed
    function countCurtailment(uint256 assetId, uint64 epoch, uint32 epochLength, uint16 capHours, uint32 curtailedBps)
        external
        returns (uint32 period, uint256 excessSeconds);

    /// @notice Settlement records the credit fraction (scale 1e8) interruptible leases earned in `epoch` for
    ///         curtailment past the cap. LeaseMarket only; epochs arrive in order.
    function recordCapCredit(uint256 assetId, uint64 epoch, uint256 fraction) external;

    /// @notice Credit fraction earned by interruptible leases over epochs (afterEpoch, upTo].
    function capCreditBetween(uint256 assetId, uint64 afterEpoch, uint64 upTo) external view returns (uint256);

    /// @notice Curtailment counted in the asset's latest 30-day period, in seconds.
    function curtailmentOf(uint256 assetId) external view returns (uint32 period, uint32 usedSeconds);

    /// @notice Seconds of [from, to) inside the declared event, and whether it was declared for `assetId`.
    function overlap(bytes32 declarationId_, uint256 assetId, uint64 from, uint64 to)
        external
        view
        returns (bool known, uint64 seconds_);

    function eventOf(bytes32 declarationId_) external view returns (StoredGridEvent memory);
    /// @notice Certified renewable energy retired against an asset's epoch.
    function retiredWh(uint256 assetId, uint64 epoch) external view returns (uint256);
    /// @return assetId zero when the certificate was never retired
    function certificateUse(bytes32 certificateId) external view returns (uint256 assetId, uint64 epoch);
    function hashEvent(GridEvent calldata ev) external view returns (bytes32);
    function GRID_EVENT_TYPEHASH() external view returns (bytes32);
    function MAX_EVENT_DURATION() external view returns (uint64);
}
