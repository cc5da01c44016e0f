//! Orthographic camera on the viewing half-sphere, directional lights, and a z-buffered
//! rasteriser with flat Lambertian shading plus ambient light.

use super::mesh::Triangle;

const AMBIENT: f32 = 0.3;
/// Half the width of the scene that fills the frame.
const HALF_EXTENT: f32 = 2.5;

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn unit(a: [f32; 3]) -> [f32; 3] {
    let l = dot(a, a).sqrt();
    [a[0] / l, a[1] / l, a[2] / l]
}

/// A camera looking at the origin from azimuth and elevation (degrees), orthographic.
pub struct Camera {
    /// Unit vector from the origin towards the camera.
    pub towards: [f32; 3],
    right: [f32; 3],
    up: [f32; 3],
}

impl Camera {
    /// The camera at `azimuth`° around the vertical axis and `elevation`° above the horizon.
    pub fn new(azimuth: f32, elevation: f32) -> Self {
        let (a, e) = (azimuth.to_radians(), elevation.to_radians());
        let towards = [e.cos() * a.cos(), e.cos() * a.sin(), e.sin()];
        let right = unit(cross([0.0, 0.0, 1.0], towards));
        let up = cross(towards, right);
        Self { towards, right, up }
    }
}

/// Directional lights (unit vectors towards the light) with intensities, and the grey level
/// they give the uniform backdrop.
pub struct Lights {
    /// The lights that are on.
    pub on: Vec<([f32; 3], f32)>,
    /// The backdrop's grey level under them.
    pub background: u8,
}

impl Lights {
    /// Lighting condition `i` of 6: four lights (front-left, front-right, back, overhead) in
    /// on/off combinations, as NORB's lights are.
    pub fn condition(i: usize) -> Self {
        let lights = [
            (unit([1.0, 1.0, 0.4]), 0.7),
            (unit([1.0, -1.0, 0.3]), 0.7),
            (unit([-1.0, 0.2, 0.5]), 0.65),
            (unit([0.1, 0.0, 1.0]), 0.65),
        ];
        let on: &[usize] = match i % 6 {
            0 => &[0],
            1 => &[1],
            2 => &[2],
            3 => &[3],
            4 => &[0, 1],
            _ => &[2, 3],
        };
        // the backdrop catches the light too: brighter with more (and more frontal) light
        let background = [64, 72, 48, 88, 104, 80][i % 6];
        Lights {
            on: on.iter().map(|&k| lights[k]).collect(),
            background,
        }
    }

    /// The same lights for a camera at `azimuth`°: NORB turns the object on a turntable under
    /// lights fixed in the room, so each light keeps its direction relative to the camera's
    /// azimuth (the directions above are given for a camera at azimuth 0).
    pub fn turned(mut self, azimuth: f32) -> Self {
        let (s, c) = azimuth.to_radians().sin_cos();
        for (d, _) in &mut self.on {
            *d = [c * d[0] - s * d[1], s * d[0] + c * d[1], d[2]];
        }
        self
    }
}

/// Renders `mesh` seen by `camera` under `lights` into a `side × side` grey image.
pub fn render(mesh: &[Triangle], camera: &Camera, lights: &Lights, side: usize) -> Vec<u8> {
    let mut img = vec![lights.background; side * side];
    let mut depth = vec![f32::NEG_INFINITY; side * side];
    let scale = side as f32 / (2.0 * HALF_EXTENT);
    let centre = side as f32 / 2.0;
    for tri in mesh {
        let mut normal = unit(cross(sub(tri[1], tri[0]), sub(tri[2], tri[0])));
        if dot(normal, camera.towards) < 0.0 {
            normal = [-normal[0], -normal[1], -normal[2]]; // two-sided: shade the visible side
        }
        let light: f32 = AMBIENT
            + lights
                .on
                .iter()
                .map(|(dir, k)| k * dot(normal, *dir).max(0.0))
                .sum::<f32>();
        let shade = (255.0 * light.min(1.0)).round() as u8;
        let p: Vec<[f32; 3]> = tri
            .iter()
            .map(|v| {
                [
                    centre + scale * dot(*v, camera.right),
                    centre - scale * dot(*v, camera.up),
                    dot(*v, camera.towards),
                ]
            })
            .collect();
        let area =
            (p[1][0] - p[0][0]) * (p[2][1] - p[0][1]) - (p[2][0] - p[0][0]) * (p[1][1] - p[0][1]);
        if area.abs() < 1e-9 {
            continue;
        }
        let (x0, x1) = (
            p.iter().map(|q| q[0]).fold(f32::INFINITY, f32::min),
            p.iter().map(|q| q[0]).fold(f32::NEG_INFINITY, f32::max),
        );
        let (y0, y1) = (
            p.iter().map(|q| q[1]).fold(f32::INFINITY, f32::min),
            p.iter().map(|q| q[1]).fold(f32::NEG_INFINITY, f32::max),
        );
        let (xs, xe) = (
            x0.floor().max(0.0) as usize,
            (x1.ceil() as isize).clamp(0, side as isize - 1) as usize,
        );
        let (ys, ye) = (
            y0.floor().max(0.0) as usize,
            (y1.ceil() as isize).clamp(0, side as isize - 1) as usize,
        );
        for y in ys..=ye {
            for x in xs..=xe {
                let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                let w0 = ((p[1][0] - px) * (p[2][1] - py) - (p[2][0] - px) * (p[1][1] - py)) / area;
                let w1 = ((p[2][0] - px) * (p[0][1] - py) - (p[0][0] - px) * (p[2][1] - py)) / area;
                let w2 = 1.0 - w0 - w1;
                if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                    continue;
                }
                let z = w0 * p[0][2] + w1 * p[1][2] + w2 * p[2][2];
                let k = y * side + x;
                if z > depth[k] {
                    depth[k] = z;
                    img[k] = shade;
                }
            }
        }
    }
    img
}
