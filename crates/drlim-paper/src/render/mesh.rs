//! The airplane as triangles, built from boxes: x runs nose-to-tail, y along the wings, z up.

/// A triangle's three vertices.
pub type Triangle = [[f32; 3]; 3];

/// An axis-aligned box from `lo` to `hi` as 12 triangles.
fn cuboid(lo: [f32; 3], hi: [f32; 3]) -> Vec<Triangle> {
    let v = |i: usize| -> [f32; 3] {
        [
            if i & 1 == 0 { lo[0] } else { hi[0] },
            if i & 2 == 0 { lo[1] } else { hi[1] },
            if i & 4 == 0 { lo[2] } else { hi[2] },
        ]
    };
    // faces as quads of corner indices (bit 0: x, bit 1: y, bit 2: z)
    let quads = [
        [0, 1, 3, 2],
        [4, 6, 7, 5],
        [0, 4, 5, 1],
        [2, 3, 7, 6],
        [0, 2, 6, 4],
        [1, 5, 7, 3],
    ];
    quads
        .iter()
        .flat_map(|q| [[v(q[0]), v(q[1]), v(q[2])], [v(q[0]), v(q[2]), v(q[3])]])
        .collect()
}

/// The airplane: fuselage, a pyramid nose, swept-looking wings (two boxes), tailplane and fin.
pub fn airplane() -> Vec<Triangle> {
    let mut t = Vec::new();
    t.extend(cuboid([-1.6, -0.22, -0.22], [1.4, 0.22, 0.22])); // fuselage
    let tip = [-2.2, 0.0, 0.0]; // nose
    let c = [
        [-1.6, -0.22, -0.22],
        [-1.6, 0.22, -0.22],
        [-1.6, 0.22, 0.22],
        [-1.6, -0.22, 0.22],
    ];
    for i in 0..4 {
        t.push([tip, c[i], c[(i + 1) % 4]]);
    }
    t.extend(cuboid([-0.5, -2.0, -0.05], [0.3, 2.0, 0.05])); // main wing
    t.extend(cuboid([0.3, -1.2, -0.05], [0.6, 1.2, 0.05])); // wing trailing part (swept look)
    t.extend(cuboid([1.0, -0.9, 0.0], [1.4, 0.9, 0.07])); // tailplane
    t.extend(cuboid([0.9, -0.04, 0.2], [1.4, 0.04, 1.0])); // fin
    t
}
