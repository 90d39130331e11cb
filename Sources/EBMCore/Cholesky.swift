/// Dense Cholesky factorisation in double precision, for the covariances of Gaussian energies and
/// of NCE's noise (dimensions of the data: small enough for the textbook loops).
enum Cholesky {
    /// `L` (row-major, lower triangular) with `a = L Lᵀ` for the symmetric `d × d` matrix `a`
    /// (Cholesky–Banachiewicz).
    /// - Throws: `EBMError.invalidArgument` naming `what` when a pivot is not positive (`a` is not
    ///   positive definite).
    static func factor(_ a: [Double], dimension d: Int, _ what: String) throws -> [Double] {
        var l = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0...i {
                var s = a[i * d + j]
                for k in 0..<j { s -= l[i * d + k] * l[j * d + k] }
                if i == j {
                    try require(s > 0, "\(what) must be positive definite (Cholesky pivot \(i) is \(s))")
                    l[i * d + i] = s.squareRoot()
                } else {
                    l[i * d + j] = s / l[j * d + j]
                }
            }
        }
        return l
    }

    /// `L⁻¹` (lower triangular) by forward substitution, column by column.
    static func inverse(_ l: [Double], dimension d: Int) -> [Double] {
        var inverse = [Double](repeating: 0, count: d * d)
        for c in 0..<d {
            for i in c..<d {
                var s: Double = i == c ? 1 : 0
                for k in c..<i { s -= l[i * d + k] * inverse[k * d + c] }
                inverse[i * d + c] = s / l[i * d + i]
            }
        }
        return inverse
    }
}
