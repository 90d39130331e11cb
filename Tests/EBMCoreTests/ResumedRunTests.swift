import XCTest
@testable import EBMCore

/// A run continued from where another stopped — the noise counter at the steps already taken
/// (`counterOffset`) and the kernel's carried values handed over (`CarriedValues`), as persistent
/// chains (`ebm_chains`) run — equals one run of all the steps, bit for bit, for every kernel
/// whose chains are their states (and kinetic Langevin, whose momenta are carried), on several
/// blocks and two threads.
final class ResumedRunTests: XCTestCase {
    static let energy = try! BananaEnergy(dimension: 2, curvature: 1, scale: 1)
    static let x0 = (0..<(2 * 150)).map { Float($0 % 11) / 5 - 1 }

    static func specs(steps: Int) -> [(SamplerSpec, UInt64)] {
        [(.langevin(steps: steps, stepSize: 0.05), Langevin.noisePurpose),
         (.mala(steps: steps, stepSize: 0.3), MALA.noisePurpose),
         (.hmc(steps: steps, stepSize: 0.2, leapfrogSteps: 3), HMC.noisePurpose),
         (.barker(steps: steps, stepSize: 0.5), Barker.noisePurpose),
         (NUTSTests.spec(steps: steps, stepSize: 0.3), NUTS.noisePurpose),
         (KineticLangevinTests.spec(steps: steps, stepSize: 0.2, friction: 0.5, metropolis: false),
          KineticLangevin.noisePurpose),
         (KineticLangevinTests.spec(steps: steps, stepSize: 0.6, friction: 0.5, metropolis: true),
          KineticLangevin.noisePurpose)]
    }

    /// Runs `pieces` one after another on `x`, continuing the counter and (if `carry`) the
    /// carried values; returns the summed acceptance counts.
    func runInPieces(_ spec: SamplerSpec, purpose: UInt64, _ pieces: [Int], _ x: inout [Float], carry: Bool) throws -> [Double] {
        let width = try spec.settings(dimension: 2).kernel.carriedWidth(dimension: 2)
        var carried = [Float](repeating: .nan, count: 150 * max(width, 1))
        var accepted = [Double](repeating: 0, count: 150), done = 0
        for steps in pieces {
            var piece = spec
            piece.steps = steps
            let run = try carried.withUnsafeMutableBufferPointer { c in
                try runSampler(Self.energy, piece, &x, seed: 9, purpose: purpose, threads: 2, counterOffset: done,
                               carried: carry ? CarriedValues(c.baseAddress!, resume: done > 0) : nil)
            }
            for i in 0..<150 { accepted[i] += run.accepted[i] }
            done += steps
        }
        return accepted
    }

    func testPiecesEqualOneRun() throws {
        for (spec, purpose) in Self.specs(steps: 10) {
            var whole = Self.x0, pieces = Self.x0
            let run = try runSampler(Self.energy, spec, &whole, seed: 9, purpose: purpose, threads: 2)
            let accepted = try runInPieces(spec, purpose: purpose, [3, 1, 4, 2], &pieces, carry: true)
            XCTAssertEqual(pieces, whole, spec.kind)
            XCTAssertEqual(accepted, run.accepted, spec.kind)
            XCTAssertNotEqual(pieces, Self.x0, spec.kind)
        }
    }

    /// Without its momenta handed over, kinetic Langevin restarts them at every piece: the run
    /// differs, so the equality above is the carried values' doing.
    func testKineticLangevinNeedsItsMomenta() throws {
        let spec = KineticLangevinTests.spec(steps: 10, stepSize: 0.2, friction: 0.5, metropolis: false)
        var whole = Self.x0, pieces = Self.x0
        try runSampler(Self.energy, spec, &whole, seed: 9, purpose: KineticLangevin.noisePurpose, threads: 2)
        _ = try runInPieces(spec, purpose: KineticLangevin.noisePurpose, [3, 1, 4, 2], &pieces, carry: false)
        XCTAssertNotEqual(pieces, whole)
        XCTAssertEqual(try spec.settings(dimension: 2).kernel.carriedWidth(dimension: 2), 2)
        XCTAssertEqual(try SamplerSpec.mala(steps: 1, stepSize: 0.1).settings(dimension: 2).kernel.carriedWidth(dimension: 2), 0)
    }
}
