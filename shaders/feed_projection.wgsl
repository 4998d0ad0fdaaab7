// The chosen CCTV camera's live feed projected onto the surfaces it sees. Drawn over the tile
// parts near the camera (their own geometry, blended on top): each fragment is placed in the
// camera's picture by `clip_from_world`; outside the picture, past the camera's range, or farther
// than the first surface the camera's depth map holds there (occluded), it is discarded.
#import bevy_pbr::forward_io::VertexOutput

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> clip_from_world: mat4x4<f32>;
// x: opacity; y: depth tolerance (m); z: depth tolerance per metre of distance.
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<uniform> params: vec4<f32>;
@group(#{MATERIAL_BIND_GROUP}) @binding(2) var feed: texture_2d<f32>;
@group(#{MATERIAL_BIND_GROUP}) @binding(3) var feed_sampler: sampler;
// Metres along the camera's axis to the first surface, per texel (rows from the top).
@group(#{MATERIAL_BIND_GROUP}) @binding(4) var depth_map: texture_2d<f32>;

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let clip = clip_from_world * vec4<f32>(in.world_position.xyz, 1.0);
    if clip.w <= 0.0 {
        discard;
    }
    let ndc = clip.xyz / clip.w;
    if abs(ndc.x) > 1.0 || abs(ndc.y) > 1.0 || ndc.z < 0.0 || ndc.z > 1.0 {
        discard;
    }
    let uv = vec2<f32>(ndc.x * 0.5 + 0.5, 0.5 - ndc.y * 0.5);
    let size = vec2<i32>(textureDimensions(depth_map));
    let texel = clamp(vec2<i32>(uv * vec2<f32>(size)), vec2<i32>(0), size - vec2<i32>(1));
    let first_m = textureLoad(depth_map, texel, 0).r;
    if clip.w > first_m + params.y + clip.w * params.z {
        discard;
    }
    let colour = textureSampleLevel(feed, feed_sampler, uv, 0.0);
    // A soft border, so the picture's edge reads as an edge and not as a seam.
    let edge = min(min(uv.x, 1.0 - uv.x), min(uv.y, 1.0 - uv.y));
    return vec4<f32>(colour.rgb, params.x * smoothstep(0.0, 0.015, edge));
}
