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
/// @param assetId the asset curtailed
/// @param eventId keccak256 of the program's own event id (OpenADR: "<vtnId>/<eventId>")
/// @param source where the notice came from, which decides who may sign it
/// @param startsAt unix seconds
/// @param endsAt unix seconds (after `startsAt`, at most MAX_EVENT_DURATION later)
/// @param payloadHash sha-256 of the notice as received (OpenADR: the signed XML), kept as evidence
struct GridEvent {
    uint256 assetId;
    bytes32 eventId;
    GridEventSource source;
    uint64 startsAt;
    uint64 endsAt;
    bytes32 payloadHash;
}

/// @notice A declared event, as stored (one slot).
/// @param assetId the asset curtailed (zero: no such declaration)
/// @param startsAt unix seconds
/// @param endsAt unix seconds
/// @param source where the notice came from
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
    /// @notice Raised when an event is declared, or certificates are retired, for an asset id that was never
    ///         registered.
    /// @param assetId the asset id given
    error GridUnknownAsset(uint256 assetId);
    /// @notice Raised when a declared event ends at or before its start, or lasts longer than
    ///         MAX_EVENT_DURATION.
    /// @param startsAt the event's start (unix seconds)
    /// @param endsAt the event's end (unix seconds)
    /// @param maxDuration the longest an event may last, seconds (MAX_EVENT_DURATION)
    error GridInvalidWindow(uint64 startsAt, uint64 endsAt, uint64 maxDuration);
    /// @notice Raised when an event is declared at or after its end.
    /// @param eventId the program's event id (hashed) given
    /// @param endsAt the event's end (unix seconds)
    /// @param now_ the block's timestamp
    error GridEventExpired(bytes32 eventId, uint64 endsAt, uint64 now_);
    /// @notice The signer already declared this event for this asset.
    /// @param declarationId the existing declaration's id
    error GridEventExists(bytes32 declarationId);
    /// @notice An event that starts further ahead than the protocol's horizon.
    /// @param startsAt the event's start (unix seconds)
    /// @param latestStart now plus the protocol's grid event horizon: the latest start allowed (unix seconds)
    error GridEventBeyondHorizon(uint64 startsAt, uint256 latestStart);
    /// @notice Raised when the event's signature is not by the asset's operator (a manual notice) or by one of
    ///         its attestors (an OpenADR event).
    /// @param assetId the asset
    /// @param source the event's source
    /// @param signer the address the signature recovers to
    error GridUnauthorizedSigner(uint256 assetId, GridEventSource source, address signer);
    /// @notice Raised when an event is declared with a zero event id.
    error GridZeroEventId();
    /// @notice Raised when anyone but the asset's operator retires certificates against it.
    /// @param assetId the asset
    /// @param caller the caller
    error GridNotOperator(uint256 assetId, address caller);
    /// @notice Raised when a certificate was already retired (by any asset, or earlier in the same call).
    /// @param certificateId the certificate
    /// @param assetId the asset it was retired against
    /// @param epoch the epoch it was retired against
    error GridCertificateUsed(bytes32 certificateId, uint256 assetId, uint64 epoch);
    /// @notice Raised when a certificate has a zero id or zero energy.
    /// @param index its position in the call's arrays
    /// @param certificateId the certificate id given
    /// @param energyWh the energy given, Wh
    error GridInvalidCertificate(uint256 index, bytes32 certificateId, uint64 energyWh);
    /// @notice Raised when the certificate ids and the energies are not as many.
    /// @param certificates the number of certificate ids
    /// @param amounts the number of energies
    error GridLengthMismatch(uint256 certificates, uint256 amounts);
    /// @notice Raised when a call retires no certificate, or more than the most per call.
    /// @param count the certificates given
    /// @param max the most per call (64)
    error GridInvalidCertificateCount(uint256 count, uint256 max);
    /// @notice Raised when anyone but the LeaseMarket counts curtailment or records a cap credit.
    /// @param caller the caller
    error GridOnlyMarket(address caller);

    /// @notice `declarationId` is what reports name; `eventId` is the program's event. Emitted when an event
    ///         is declared.
    /// @param assetId the asset curtailed
    /// @param declarationId keccak256(abi.encode(assetId, eventId, signer)): the id reports name
    /// @param eventId keccak256 of the program's own event id
    /// @param source where the notice came from
    /// @param startsAt unix seconds
    /// @param endsAt unix seconds
    /// @param payloadHash sha-256 of the notice as received, kept as evidence
    /// @param signer who attested it: the operator (manual) or an attestor (OpenADR)
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
    /// @notice Emitted for each certificate the operator retires against an asset's epoch.
    /// @param assetId the asset
    /// @param epoch the epoch index it is retired against
    /// @param certificateId the certificate (its serial number, hashed)
    /// @param energyWh the renewable energy it certifies, Wh
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

    /// @notice The declared event under `declarationId_` (all zero when there is none).
    function eventOf(bytes32 declarationId_) external view returns (StoredGridEvent memory);
    /// @notice Certified renewable energy retired against an asset's epoch.
    function retiredWh(uint256 assetId, uint64 epoch) external view returns (uint256);
    /// @return assetId zero when the certificate was never retired
    function certificateUse(bytes32 certificateId) external view returns (uint256 assetId, uint64 epoch);
    /// @notice The EIP-712 digest a signer signs for `ev`.
    function hashEvent(GridEvent calldata ev) external view returns (bytes32);
    /// @notice The EIP-712 type hash of `GridEvent`.
    function GRID_EVENT_TYPEHASH() external view returns (bytes32);
    /// @notice The longest a declared event may last, seconds.
    function MAX_EVENT_DURATION() external view returns (uint64);
}
