/// The state update of one Langevin step, over a whole block of chains at once.
extension Langevin {
    /// `x ← clamp(x − η·clip(g) + σ·ε)` elementwise over `count` entries, 16 lanes at a time;
    /// returns `false` if any updated state (before the clamp, which could hide it) is NaN or
    /// infinite — a NaN or infinite gradient always gives one.
    ///
    /// The clip and the clamp are selects, so a NaN passes through them to the check (where
    /// `Swift.min`/`max` would quietly replace it).
    static func update(
        _ x: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, noise eps: UnsafePointer<Float>,
        count: Int, stepSize eta: Float, noiseScale sigma: Float, clip: Float, low: Float, high: Float
    ) -> Bool {
        typealias V = VectorMath.V
        // `step · 0` is 0 for finite steps and NaN otherwise; the sum records any of them.
        var poison = V()
        var i = 0
        while i + V.scalarCount <= count {
            var gradient = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            gradient = gradient.replacing(with: clip, where: gradient .> clip)
            gradient = gradient.replacing(with: -clip, where: gradient .< -clip)
            let noise = UnsafeRawPointer(eps + i).loadUnaligned(as: V.self)
            let state = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            var step = state.multiplyAdd(gradient, -eta).multiplyAdd(noise, sigma)
            poison = poison.multiplyAdd(step, 0)
            step = step.replacing(with: low, where: step .< low)
            step = step.replacing(with: high, where: step .> high)
            UnsafeMutableRawPointer(x + i).storeBytes(of: step, as: V.self)
            i += V.scalarCount
        }
        var finite = poison.sum() == 0
        while i < count {
            var gradient = g[i]
            if gradient > clip { gradient = clip } else if gradient < -clip { gradient = -clip }
            var step = x[i].multiplyAdd(gradient, -eta).multiplyAdd(eps[i], sigma)
            finite = finite && step.isFinite
            if step < low { step = low } else if step > high { step = high }
            x[i] = step
            i += 1
        }
        return finite
    }
}
