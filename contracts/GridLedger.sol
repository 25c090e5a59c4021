// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

import {AssetStatus, AssetTerms, ICapacityRegistry} from "./interfaces/ICapacityRegistry.sol";
import {IMetricsOracle} from "./interfaces/IMetricsOracle.sol";
import {GridEvent, GridEventSource, IGridLedger, StoredGridEvent} from "./interfaces/IGridLedger.sol";
import {Constants} from "./libraries/Constants.sol";

/// @title GridLedger
/// @notice See {IGridLedger}. EIP-712 domain: name "Wellhead GridLedger", version "1", this chain and this
///         contract.
contract GridLedger is IGridLedger, EIP712, ERC165 {
    using Checkpoints for Checkpoints.Trace208;
    bytes32 public constant GRID_EVENT_TYPEHASH = keccak256(
        "GridEvent(uint256 assetId,bytes32 eventId,uint8 source,uint64 startsAt,uint64 endsAt,bytes32 payloadHash)"
    );
    /// @dev The longest event any demand-response program calls in one notice (a day).
    uint64 public constant MAX_EVENT_DURATION = 1 days;
    uint256 public constant MAX_CERTIFICATES = 64;
    uint32 public constant CURTAILMENT_PERIOD = 30 days;
    uint256 private constant BPS = Constants.BPS;

    struct CertificateUse {
        uint64 assetId;
        uint64 epoch;
    }

    /// @dev Curtailment counted in an asset's current 30-day period.
    struct CurtailmentUse {
        uint32 period;
        uint32 usedSeconds;
    }

    ICapacityRegistry public immutable registry;

    mapping(bytes32 declarationId => StoredGridEvent) private _events;
    mapping(bytes32 certificateId => CertificateUse) private _certificates;
    mapping(uint256 assetId => mapping(uint64 epoch => uint256)) private _retiredWh;
    mapping(uint256 assetId => CurtailmentUse) private _curtailment;
    /// @dev Cumulative credit fraction paid to interruptible leases past the cap, checkpointed only at the
    ///      epochs that had some: written rarely, read by binary search.
    // slither-disable-next-line uninitialized-state (a mapping: every trace starts empty)
    mapping(uint256 assetId => Checkpoints.Trace208) private _capCredits;

    constructor(ICapacityRegistry registry_) EIP712("Wellhead GridLedger", "1") {
        registry = registry_;
    }

    /// @inheritdoc IGridLedger
    function declareEvent(GridEvent calldata ev, bytes calldata signature) external returns (bytes32 id) {
        if (ev.eventId == bytes32(0)) revert GridZeroEventId();
        AssetTerms memory t = registry.terms(ev.assetId);
        if (t.status == AssetStatus.None) revert GridUnknownAsset(ev.assetId);
        if (ev.endsAt <= ev.startsAt || ev.endsAt - ev.startsAt > MAX_EVENT_DURATION) {
            revert GridInvalidWindow(ev.startsAt, ev.endsAt, MAX_EVENT_DURATION);
        }
        if (block.timestamp >= ev.endsAt) revert GridEventExpired(ev.eventId, ev.endsAt, uint64(block.timestamp));
        uint256 latestStart = block.timestamp + registry.protocolParams().gridEventHorizon;
        if (ev.startsAt > latestStart) revert GridEventBeyondHorizon(ev.startsAt, latestStart);

        address signer = ECDSA.recover(_hashTypedDataV4(_structHash(ev)), signature);
        if (!_mayAttest(ev.assetId, t, ev.source, signer)) {
            revert GridUnauthorizedSigner(ev.assetId, ev.source, signer);
        }
        id = declarationId(ev.assetId, ev.eventId, signer);
        if (_events[id].endsAt != 0) revert GridEventExists(id);

        _events[id] = StoredGridEvent({
            assetId: uint64(ev.assetId), // registry ids count up from 1
            startsAt: ev.startsAt,
            endsAt: ev.endsAt,
            source: ev.source
        });
        emit GridEventDeclared(ev.assetId, id, ev.eventId, ev.source, ev.startsAt, ev.endsAt, ev.payloadHash, signer);
    }

    /// @inheritdoc IGridLedger
    function declarationId(uint256 assetId, bytes32 eventId, address signer) public pure returns (bytes32) {
        return keccak256(abi.encode(assetId, eventId, signer));
    }

    /// @dev A manual notice is the operator's word; an OpenADR event is attested by an agent of the asset,
    ///      whose VEN checked the VTN's signature.
    function _mayAttest(uint256 assetId, AssetTerms memory t, GridEventSource source, address signer)
        private
        view
        returns (bool)
    {
        if (source == GridEventSource.Manual) return signer == t.operator;
        // slither-disable-next-line unused-return (the stake does not matter to declaring an event)
        (uint8 index,) = IMetricsOracle(registry.metricsOracle()).attestorOf(assetId, signer);
        return index != 0;
    }

    /// @inheritdoc IGridLedger
    function retireCertificates(
        uint256 assetId,
        uint64 epoch,
        bytes32[] calldata certificateIds,
        uint64[] calldata energyWh
    ) external {
        AssetTerms memory t = registry.terms(assetId);
        if (t.status == AssetStatus.None) revert GridUnknownAsset(assetId);
        if (msg.sender != t.operator) revert GridNotOperator(assetId, msg.sender);
        uint256 n = certificateIds.length;
        if (n != energyWh.length) revert GridLengthMismatch(n, energyWh.length);
        if (n == 0 || n > MAX_CERTIFICATES) revert GridInvalidCertificateCount(n, MAX_CERTIFICATES);
        uint256 total = 0;
        for (uint256 i; i < n; ++i) {
            bytes32 id = certificateIds[i];
            if (id == bytes32(0) || energyWh[i] == 0) revert GridInvalidCertificate(i, id, energyWh[i]);
            CertificateUse memory used = _certificates[id];
            if (used.assetId != 0) revert GridCertificateUsed(id, used.assetId, used.epoch);
            _certificates[id] = CertificateUse({assetId: uint64(assetId), epoch: epoch});
            total += energyWh[i];
            emit CertificateRetired(assetId, epoch, id, energyWh[i]);
        }
        _retiredWh[assetId][epoch] += total;
    }

    // ---------------------------------------------------------------- curtailment cap

    /// @inheritdoc IGridLedger
    function countCurtailment(uint256 assetId, uint64 epoch, uint32 epochLength, uint16 capHours, uint32 curtailedBps)
        external
        returns (uint32 period, uint256 excessSeconds)
    {
        _onlyMarket();
        period = uint32(uint256(epoch) * epochLength / CURTAILMENT_PERIOD);
        CurtailmentUse memory use = _curtailment[assetId];
        if (use.period != period) use = CurtailmentUse({period: period, usedSeconds: 0});
        // whole seconds, rounded up against the operator; epochLength <= 30 days keeps the sum in uint32
        uint256 curtailed = Math.mulDiv(curtailedBps, epochLength, BPS, Math.Rounding.Ceil);
        uint256 cap = uint256(capHours) * 3600;
        uint256 allowance = use.usedSeconds >= cap ? 0 : cap - use.usedSeconds;
        _curtailment[assetId] = CurtailmentUse({period: period, usedSeconds: uint32(use.usedSeconds + curtailed)});
        excessSeconds = curtailed > allowance ? curtailed - allowance : 0;
    }

    /// @inheritdoc IGridLedger
    function recordCapCredit(uint256 assetId, uint64 epoch, uint256 fraction) external {
        _onlyMarket();
        Checkpoints.Trace208 storage credits = _capCredits[assetId];
        // slither-disable-next-line unused-return (the previous and new values are not needed)
        credits.push(SafeCast.toUint48(epoch), SafeCast.toUint208(credits.latest() + fraction));
    }

    /// @inheritdoc IGridLedger
    function capCreditBetween(uint256 assetId, uint64 afterEpoch, uint64 upTo) external view returns (uint256) {
        Checkpoints.Trace208 storage credits = _capCredits[assetId];
        // slither-disable-next-line incorrect-equality (a count of checkpoints)
        if (credits.length() == 0) return 0;
        return
            credits.upperLookupRecent(SafeCast.toUint48(upTo))
                - credits.upperLookupRecent(SafeCast.toUint48(afterEpoch));
    }

    /// @inheritdoc IGridLedger
    function curtailmentOf(uint256 assetId) external view returns (uint32 period, uint32 usedSeconds) {
        CurtailmentUse memory use = _curtailment[assetId];
        return (use.period, use.usedSeconds);
    }

    function _onlyMarket() private view {
        if (msg.sender != registry.leaseMarket()) revert GridOnlyMarket(msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IGridLedger
    function overlap(bytes32 id, uint256 assetId, uint64 from, uint64 to)
        external
        view
        returns (bool known, uint64 seconds_)
    {
        StoredGridEvent memory e = _events[id];
        // slither-disable-next-line incorrect-equality (identifiers)
        known = e.endsAt != 0 && e.assetId == assetId;
        if (!known) return (false, 0);
        uint64 start = e.startsAt > from ? e.startsAt : from;
        uint64 end = e.endsAt < to ? e.endsAt : to;
        seconds_ = end > start ? end - start : 0;
    }

    function eventOf(bytes32 id) external view returns (StoredGridEvent memory) {
        return _events[id];
    }

    function retiredWh(uint256 assetId, uint64 epoch) external view returns (uint256) {
        return _retiredWh[assetId][epoch];
    }

    function certificateUse(bytes32 certificateId) external view returns (uint256 assetId, uint64 epoch) {
        CertificateUse memory u = _certificates[certificateId];
        return (u.assetId, u.epoch);
    }

    function _structHash(GridEvent calldata ev) private pure returns (bytes32) {
        return keccak256(abi.encode(GRID_EVENT_TYPEHASH, ev));
    }

    /// @inheritdoc IGridLedger
    function hashEvent(GridEvent calldata ev) external view returns (bytes32) {
        return _hashTypedDataV4(_structHash(ev));
    }

    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IGridLedger).interfaceId || super.supportsInterface(interfaceId);
    }
}
